#!/bin/sh
# An entry central must refuse (a booking without its room) goes to the
# dead-letter table with the reason; the hub's stream goes on past it,
# and the operator sees it in 'hubs' and 'deadletters'.
. "$(dirname "$0")/lib.sh"

central_init
central_start
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
bad=$("$INJECT" "$T/fjell" bad-booking)
hk fjell booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" \
	--org "Blå Kors" >/dev/null
hub_start fjell
check stream_goes_on wait_for 20 synced fjell
"$K" --data "$C" deadletters --json >"$T/dead" 2>"$T/err"
if BAD=$bad jcheck "$T/dead" 'len(v) == 1 and v[0]["id"] == os.environ["BAD"] and "room" in v[0]["reason"]'; then
	pass dead_letter_kept_with_reason
else
	fail dead_letter_kept_with_reason "$(cat "$T/dead" "$T/err")"
fi
"$K" --data "$C" hubs --json >"$T/hubs"
if jcheck "$T/hubs" 'v[0]["dead_letters"] == 1'; then
	pass hubs_counts_dead_letters
else
	fail hubs_counts_dead_letters "$(cat "$T/hubs")"
fi
check refusal_logged grep -q "refused and kept as a dead letter" "$T/central.log"
