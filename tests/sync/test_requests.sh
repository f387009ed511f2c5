#!/bin/sh
# Central requests (DESIGN.md section 3): central asks a hub to add a
# booking or an activity; the hub executes it under the clash rule and the
# result flows back. Real daemons on loopback.
. "$(dirname "$0")/lib.sh"

# ck ARGS...: knute on central's store.
ck() { "$K" --data "$C" "$@"; }

# req_field Q FIELD: FIELD of request Q in 'requests --json' ("" if none).
req_field() {
	ck requests --json 2>/dev/null | python3 -c 'import json,sys
try:
    for r in json.load(sys.stdin):
        if r["id"] == sys.argv[1]:
            v = r[sys.argv[2]]
            print("" if v is None else v)
except Exception: pass' "$1" "$2"
}
req_count() {
	ck requests --json 2>/dev/null | python3 -c 'import json,sys
print(len(json.load(sys.stdin)))' 2>/dev/null
}
req_is() { [ "$(req_field "$1" state)" = "$2" ]; }
# org_count HUB ORG: the hub's own bookings of ORG.
org_count() {
	hk "$1" booking list --json | python3 -c 'import json,sys
print(sum(1 for b in json.load(sys.stdin) if b["org"] == sys.argv[1]))' "$2"
}

central_init
central_start
hub_init fjell "Fjell bydelshus"
hub_init aassiden "Åssiden aktivitetshus"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hub_start fjell
hub_start aassiden
check hubs_synced wait_for 20 synced fjell
wait_for 20 synced aassiden

# An online hub takes the request; the new id comes back.
run --data "$C" booking add --hub fjell --room r1 --org "Røde Kors" \
	--from "2027-03-02 17:00" --to "2027-03-02 19:00" --wait 20 --json
cp "$T/out" "$T/q1.json"
B1=$(json_get result <"$T/q1.json")
if [ $rc -eq 0 ] && jcheck "$T/q1.json" 'v["id"] == "q1" and v["state"] == "accepted" and v["hub"] == "fjell" and v["reason"] is None' &&
	[ -n "$B1" ] && [ "${B1%%:*}" = fjell ]; then
	pass request_accepted
else
	fail request_accepted "exit $rc: $(cat "$T/out" "$T/err")"
fi
hk fjell booking show "$B1" --json >"$T/b1.json" 2>&1
if jcheck "$T/b1.json" 'v["org"] == "Røde Kors" and v["room"] == "fjell:r1" and v["status"] == "confirmed"'; then
	pass request_record_at_hub
else
	fail request_record_at_hub "booking $B1: $(cat "$T/b1.json")"
fi
# Through central to the other hubs' mirrors.
in_mirror() { hk aassiden booking list --all-hubs --json 2>/dev/null | B="$1" jcheck /dev/stdin 'any(b["id"] == os.environ["B"] for b in v)'; }
check request_record_reaches_central wait_for 20 in_mirror "$B1"

# A request that clashes is refused, naming the booking it clashes with.
run --data "$C" booking add --hub fjell --room r1 --org "Blå Kors" \
	--from "2027-03-02 18:00" --to "2027-03-02 20:00" --wait 20
if [ $rc -eq 3 ] && grep -q "^q2 refused" "$T/out" && grep -q -F "$B1" "$T/err"; then
	pass clash_refused_exit_3
else
	fail clash_refused_exit_3 "exit $rc: $(cat "$T/out" "$T/err")"
fi
reason=$(req_field q2 reason)
if req_is q2 refused && [ -z "$(req_field q2 result)" ] &&
	printf '%s' "$reason" | grep -q -F "$B1"; then
	pass clash_reason_names_booking
else
	fail clash_reason_names_booking "q2 $(req_field q2 state): $reason"
fi
if [ "$(org_count fjell "Blå Kors")" = 0 ]; then
	pass clash_nothing_written
else
	fail clash_nothing_written "the hub holds a Blå Kors booking"
fi

# Bad requests are refused at the command line and nothing is stored.
n0=$(req_count)
run --data "$C" booking add --hub svelvik --room r1 --org "Røde Kors" \
	--from "2027-03-09 17:00" --to "2027-03-09 19:00"
if [ $rc -eq 2 ] && grep -q "svelvik" "$T/err" && grep -q "fjell" "$T/err" &&
	[ "$(req_count)" = "$n0" ] && [ ! -s "$T/out" ]; then
	pass unknown_hub_refused
else
	fail unknown_hub_refused "exit $rc: $(cat "$T/err")"
fi
run --data "$C" booking add --hub fjell --room r1 --org "Røde Kors" \
	--from "2027-02-30 17:00" --to "2027-02-30 19:00"
if [ $rc -eq 2 ] && [ "$(req_count)" = "$n0" ] && [ ! -s "$T/out" ]; then
	pass bad_date_refused
else
	fail bad_date_refused "exit $rc: $(cat "$T/err")"
fi
run --data "$C" booking add --hub fjell --room aassiden:r1 --org "Røde Kors" \
	--from "2027-03-09 17:00" --to "2027-03-09 19:00"
if [ $rc -eq 2 ] && [ "$(req_count)" = "$n0" ]; then
	pass other_hubs_room_refused
else
	fail other_hubs_room_refused "exit $rc: $(cat "$T/err")"
fi
run --data "$C" booking add --room r1 --org "Røde Kors" \
	--from "2027-03-09 17:00" --to "2027-03-09 19:00"
if [ $rc -eq 2 ] && grep -q -- "--hub" "$T/err" && [ "$(req_count)" = "$n0" ]; then
	pass central_needs_hub
else
	fail central_needs_hub "exit $rc: $(cat "$T/err")"
fi
head0=$(hub_head fjell)
run --data "$T/fjell" booking add --hub fjell --room r1 --org "Røde Kors" \
	--from "2027-03-09 17:00" --to "2027-03-09 19:00"
if [ $rc -eq 2 ] && grep -q -- "--hub" "$T/err" && [ "$(hub_head fjell)" = "$head0" ]; then
	pass hub_store_refuses_hub
else
	fail hub_store_refuses_hub "exit $rc: $(cat "$T/err")"
fi

# A request to a stopped hub waits, survives central being killed, and is
# executed when the hub comes back.
hub_stop fjell
run --data "$C" booking add --hub fjell --room r1 --org "Kirkens Bymisjon" \
	--from "2027-03-03 17:00" --to "2027-03-03 19:00" --wait 1
if [ $rc -eq 1 ] && [ "$(cat "$T/out")" = "q3 pending" ] && grep -q "still pending" "$T/err" &&
	req_is q3 pending; then
	pass offline_request_pending
else
	fail offline_request_pending "exit $rc: $(cat "$T/out" "$T/err")"
fi
central_stop KILL
central_start
if req_is q3 pending && req_is q1 accepted && req_is q2 refused; then
	pass requests_survive_central_kill
else
	fail requests_survive_central_kill "$(ck requests 2>&1)"
fi
hub_start fjell
check offline_request_executed wait_for 20 req_is q3 accepted
B3=$(req_field q3 result)
if [ -n "$B3" ] && hk fjell booking show "$B3" --json >"$T/b3.json" 2>&1 &&
	jcheck "$T/b3.json" 'v["org"] == "Kirkens Bymisjon"'; then
	pass offline_request_record_at_hub
else
	fail offline_request_record_at_hub "q3 result '$B3': $(cat "$T/b3.json")"
fi

# An activity request, with its room held under the same rule.
run --data "$C" activity add --hub fjell --title "Språkkafé" \
	--organiser "Frivilligsentralen" --category språkkafé --target voksne \
	--from "2027-03-04 18:00" --to "2027-03-04 20:00" --weekly \
	--until 2027-04-29 --room r1 --wait 20 --json
cp "$T/out" "$T/q4.json"
A4=$(json_get result <"$T/q4.json")
if [ $rc -eq 0 ] && jcheck "$T/q4.json" 'v["id"] == "q4" and v["state"] == "accepted" and v["kind"] == "activity"' &&
	hk fjell activity show "$A4" --json >"$T/a4.json" 2>&1 &&
	jcheck "$T/a4.json" 'v["title"] == "Språkkafé" and v["room"] == "fjell:r1" and v["weekly"] is True'; then
	pass activity_request_accepted
else
	fail activity_request_accepted "exit $rc: $(cat "$T/out" "$T/err" "$T/a4.json")"
fi
# A booking on one of its dates now clashes with the activity.
run --data "$C" booking add --hub fjell --room r1 --org "Mental Helse" \
	--from "2027-03-11 19:00" --to "2027-03-11 21:00" --wait 20
if [ $rc -eq 3 ] && grep -q -F "$A4" "$T/err"; then
	pass activity_slots_refuse_booking
else
	fail activity_slots_refuse_booking "exit $rc: $(cat "$T/out" "$T/err")"
fi

# The listing.
ck requests >"$T/list" 2>&1
if grep -q "^q1 .*fjell.*booking.*accepted.*$B1" "$T/list" &&
	grep -q "^q2 .*refused" "$T/list"; then
	pass requests_table
else
	fail requests_table "$(cat "$T/list")"
fi
ck requests --state refused --json >"$T/refused.json" 2>&1
if jcheck "$T/refused.json" 'sorted(r["id"] for r in v) == ["q2", "q5"] and all(r["state"] == "refused" and r["reason"] for r in v)'; then
	pass requests_state_filter
else
	fail requests_state_filter "$(cat "$T/refused.json")"
fi

# Never executed twice. Central's store is copied while a request is
# pending (q6) and put back after the hub executed it and central recorded
# the result: the restored central delivers the same COMMAND again, and the
# hub answers from its record of the token. The copy's request numbers are
# handed out again, so the next request takes the number q7 of one the hub
# executed, with a new token: that one must be executed, not skipped.
hub_stop fjell
ck booking add --hub fjell --room r1 --org "Frelsesarmeen" \
	--from "2027-03-05 17:00" --to "2027-03-05 19:00" >/dev/null
central_stop
cp -a "$C" "$T/central.copy"
central_start
ck booking add --hub fjell --room r1 --org "Kirkens Bymisjon" \
	--from "2027-03-08 10:00" --to "2027-03-08 11:00" >/dev/null
hub_start fjell
wait_for 20 req_is q6 accepted
wait_for 20 req_is q7 accepted
B6=$(req_field q6 result)
B7=$(req_field q7 result)
central_stop
rm -rf "$C"
mv "$T/central.copy" "$C"
central_start
if req_is q6 pending && [ -z "$(req_field q7 state)" ]; then
	pass central_put_back
else
	fail central_put_back "$(ck requests 2>&1)"
fi
check duplicate_answered_again wait_for 20 req_is q6 accepted
if [ "$(req_field q6 result)" = "$B6" ] && [ -n "$B6" ] &&
	grep -q "request q6 came again" "$T/fjell.log"; then
	pass duplicate_same_result
else
	fail duplicate_same_result "q6 result '$(req_field q6 result)', first '$B6'"
fi
if [ "$(org_count fjell Frelsesarmeen)" = 1 ]; then
	pass duplicate_executed_once
else
	fail duplicate_executed_once "$(org_count fjell Frelsesarmeen) Frelsesarmeen bookings"
fi
run --data "$C" booking add --hub fjell --room r1 --org "Blå Kors" \
	--from "2027-03-10 17:00" --to "2027-03-10 19:00" --wait 20
B7b=$(req_field q7 result)
if [ $rc -eq 0 ] && grep -q "^q7 accepted" "$T/out" && [ -n "$B7b" ] &&
	[ "$B7b" != "$B7" ] && [ "$(org_count fjell "Blå Kors")" = 1 ]; then
	pass reused_number_new_token_executed
else
	fail reused_number_new_token_executed "exit $rc: $(cat "$T/out" "$T/err"), old q7 $B7, new $B7b"
fi
check converged_after_requests wait_for 30 synced fjell
check verify_after_requests hk fjell verify
