#!/bin/sh
# 3. A hub killed with SIGKILL in the middle of sending a large backlog,
#    then restarted, converges.
. "$(dirname "$0")/lib.sh"

central_init
central_start
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
gen_bookings fjell r1 400000 0 >"$T/b.jsonl"
hk fjell import "$T/b.jsonl" >/dev/null
hub_start fjell
# Kill it a moment after its session with central began, while the
# backlog is on its way.
wait_for 30 grep -q "hub fjell connected" "$T/central.log"
sleep 0.3
hub_stop fjell KILL
a=$(central_applied fjell)
h=$(hub_head fjell)
if [ -n "$a" ] && [ "$a" -lt "$h" ]; then
	pass killed_mid_backlog
else
	fail killed_mid_backlog "central had $a of $h when the hub died"
fi
hub_start fjell
check converged wait_for 60 synced fjell
check digest_equal hk fjell verify
