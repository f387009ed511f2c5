#!/bin/sh
# Oplog entries central acknowledged are pruned after the retention;
# a hub whose oplog was pruned still resumes (its fingerprint of the last
# pruned entry answers central's check); the municipality log is collected
# once every mirror has it.
. "$(dirname "$0")/lib.sh"

central_init
central_start
for h in fjell konnerud; do
	hub_init $h "Knutepunkt $h"
	hk $h room add --name "Storsalen" --capacity 80 >/dev/null
	hk $h booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" \
		--org "Røde Kors" >/dev/null
done
HUB_ARGS="--retention 1"
for h in fjell konnerud; do hub_start $h; done
for h in fjell konnerud; do wait_for 20 synced $h; done
oplog_empty() {
	n=$(mdb_stat -s oplog "$T/fjell" 2>/dev/null | sed -n 's/.*Entries: //p')
	[ "$n" = 0 ]
}
check oplog_pruned wait_for 30 oplog_empty
check mlog_collected wait_for 30 grep -q "collected" "$T/central.log"

hub_stop fjell
hk fjell booking add --room r1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" \
	--org "Blå Kors" >/dev/null
hub_start fjell
check resumes_after_prune wait_for 20 synced fjell
check no_snapshot_needed sh -c "! grep -q 'snapshot' '$T/central.log'"
check digest_equal hk fjell verify
