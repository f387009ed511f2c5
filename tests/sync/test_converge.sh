#!/bin/sh
# 1. Three hubs and central: writes at every hub converge at central and in
#    every other hub's mirror, and each hub's digest equals central's.
. "$(dirname "$0")/lib.sh"

central_init
central_start
for h in fjell aassiden konnerud; do
	hub_init $h "Knutepunkt $h"
	hk $h room add --name "Storsalen $h" --capacity 80 >/dev/null
	hub_start $h
done
hk fjell booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" --org "Røde Kors" >/dev/null
hk aassiden activity add --title "Språkkafé" --organiser "Frivilligsentralen" \
	--category språkkafé --target voksne --from "2026-12-02 18:00" --to "2026-12-02 20:00" >/dev/null
hk konnerud volunteer add --name "Kari Nordmann" --skills norsk --no-consent >/dev/null

for h in fjell aassiden konnerud; do
	check "converged_$h" wait_for 20 synced $h
	check "digest_equal_$h" hk $h verify
done

# Each mirror holds the other two districts' rooms, not its own.
mirror_ok() {
	hk "$1" room list --all-hubs --json >"$T/m.$1" 2>/dev/null &&
		jcheck "$T/m.$1" 'len({r["hub"] for r in v}) == 3'
}
for h in fjell aassiden konnerud; do
	check "mirror_$h" wait_for 20 mirror_ok $h
done

# A booking made while the daemon runs reaches central within a second.
before=$(hub_head fjell)
hk fjell booking add --room r1 --from "2026-12-03 17:00" --to "2026-12-03 19:00" \
	--org "Blå Kors" >/dev/null
live_ok() { [ "$(central_applied fjell)" -gt "$before" ] 2>/dev/null; }
check live_write_reaches_central wait_for 2 live_ok

# The volunteer did not consent: central has the skills, not the name.
no_name() { ! mdb_dump -a -p "$C" 2>/dev/null | grep -q "Kari Nordmann"; }
has_skill() { mdb_dump -a -p "$C" 2>/dev/null | grep -q "norsk"; }
check private_fields_stay_home no_name
check projection_reaches_central has_skill
