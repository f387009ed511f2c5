#!/bin/sh
# 4. Central's data directory replaced by an older copy: the hubs re-send
#    what it lost, and everything converges.
. "$(dirname "$0")/lib.sh"

central_init
central_start
for h in fjell konnerud; do
	hub_init $h "Knutepunkt $h"
	hk $h room add --name "Storsalen" --capacity 80 >/dev/null
	hub_start $h
done
for h in fjell konnerud; do wait_for 20 synced $h; done
central_stop
cp -a "$C" "$T/central-old"
central_start
for h in fjell konnerud; do
	gen_bookings $h r1 500 0 >"$T/$h.jsonl"
	hk $h import "$T/$h.jsonl" >/dev/null
done
for h in fjell konnerud; do wait_for 30 synced $h; done
central_stop
rm -rf "$C"
mv "$T/central-old" "$C"
central_start
for h in fjell konnerud; do
	check "converged_$h" wait_for 60 synced $h
	check "digest_equal_$h" hk $h verify
done
mirror_ok() {
	hk fjell booking list --all-hubs --json >"$T/m" 2>/dev/null &&
		jcheck "$T/m" 'sum(1 for r in v if r["hub"] == "konnerud") == 500'
}
check mirror_rebuilt wait_for 30 mirror_ok
