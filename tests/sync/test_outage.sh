#!/bin/sh
# 2. Outage: central is killed with SIGKILL; every hub keeps taking
#    bookings (10,000 changes each); central restarts; everything converges
#    with no loss and no duplicate, and no entry is refused.
. "$(dirname "$0")/lib.sh"

central_init
central_start
i=0
for h in fjell aassiden konnerud; do
	hub_init $h "Knutepunkt $h"
	hk $h room add --name "Storsalen" --capacity 80 >/dev/null
	hub_start $h
done
for h in fjell aassiden konnerud; do
	wait_for 20 synced $h
done
central_stop KILL

for h in fjell aassiden konnerud; do
	gen_bookings $h r1 10000 0 >"$T/$h.jsonl"
	if hk $h import "$T/$h.jsonl" >/dev/null 2>"$T/err"; then
		pass "hub_works_offline_$h"
	else
		fail "hub_works_offline_$h" "$(cat "$T/err")"
	fi
done
# The hubs see central is gone and say so.
unreachable() { hk fjell status --json | jcheck /dev/stdin 'v["central"]["reachable"] is False'; }
check status_says_unreachable wait_for 10 unreachable

central_start
for h in fjell aassiden konnerud; do
	check "converged_$h" wait_for 60 synced $h
	check "no_loss_no_duplicate_$h" hk $h verify
done
no_dead() {
	"$K" --data "$C" hubs --json | jcheck /dev/stdin 'all(h["dead_letters"] == 0 for h in v) and len(v) == 3'
}
check nothing_refused no_dead
