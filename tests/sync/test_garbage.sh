#!/bin/sh
# 7. Garbage bytes, a wrong protocol version and a truncated message sent
#    to central are refused with a logged reason; central keeps serving the
#    other hubs.
. "$(dirname "$0")/lib.sh"

central_init
central_start
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hub_start fjell
wait_for 20 synced fjell

for kind in garbage version truncated nohub; do
	out=$("$POKE" "$EP" $kind)
	case "$out" in
	"REFUSE: "*) pass "refused_$kind" ;;
	*) fail "refused_$kind" "central answered: $out" ;;
	esac
done
logged() { grep -q "refused a message.*$1" "$T/central.log"; }
check logged_not_msgpack logged "not msgpack"
check logged_version logged "protocol version 2"
check logged_truncated logged "truncated"

# Central still serves the hub.
hk fjell booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" \
	--org "Røde Kors" >/dev/null
check still_serving wait_for 10 synced fjell
if kill -0 "$(cat "$T/central.pid")" 2>/dev/null; then
	pass central_alive
else
	fail central_alive "central died"
fi
