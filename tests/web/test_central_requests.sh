#!/bin/sh
# Central requests over HTTP: the dashboard's POST /api/requests stores a
# request, the hub executes it under its own rules, GET /api/requests shows
# the result; bad input is 400 with nothing stored.
. "$(dirname "$0")/lib.sh"

central_init
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hk fjell booking add --room r1 --from "2030-01-08 17:00" --to "2030-01-08 19:00" \
	--org "Røde Kors" >/dev/null
central_start_web
hub_start_web fjell
wait_for 20 synced fjell || fail setup "fjell did not sync in 20 s"
CU=$(central_url)

# nreq: how many requests central holds.
nreq() {
	curl -s "$CU/api/requests" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
# req_field ID FIELD: a field of request ID from GET /api/requests.
req_field() {
	curl -s "$CU/api/requests?hub=fjell" | python3 -c 'import json,sys
for r in json.load(sys.stdin):
    if r["id"] == sys.argv[1]: print(r.get(sys.argv[2]) or "")' "$1" "$2"
}

http POST "$CU/api/requests" '{"hub": "fjell", "kind": "booking", "room": "fjell:r1", "org": "Frivilligsentralen", "purpose": "Dugnadsmøte", "date": "2030-01-09", "start": "18:00", "end": "20:00"}' >"$T/q1"
Q1=$(json_get id <"$T/q1")
if [ "$(http_status)" = 202 ] && [ "$(json_get state <"$T/q1")" = pending ] &&
	[ -n "$Q1" ]; then
	pass post_request_202
else
	fail post_request_202 "got $(http_status): $(cat "$T/q1")"
fi

if wait_for 15 sh -c "[ \"\$(curl -s '$CU/api/requests?hub=fjell' | python3 -c 'import json,sys; print([r[\"state\"] for r in json.load(sys.stdin) if r[\"id\"] == \"$Q1\"][0])')\" = accepted ]"; then
	pass request_accepted
else
	fail request_accepted "state $(req_field "$Q1" state)"
fi
RID=$(req_field "$Q1" result)
if hk fjell booking show "$RID" --json 2>/dev/null | grep -q Frivilligsentralen; then
	pass booking_made_at_hub
else
	fail booking_made_at_hub "no booking $RID with the request's org at fjell"
fi

# A clash is refused by the hub, naming the booking it clashes with.
http POST "$CU/api/requests" '{"hub": "fjell", "kind": "booking", "room": "r1", "org": "Blå Kors", "date": "2030-01-08", "start": "18:00", "end": "19:30"}' >"$T/q2"
Q2=$(json_get id <"$T/q2")
wait_for 15 sh -c "curl -s '$CU/api/requests?hub=fjell' | grep -q '\"refused\"'"
reason=$(req_field "$Q2" reason)
if [ "$(req_field "$Q2" state)" = refused ] &&
	echo "$reason" | grep -q 'clashes with booking fjell:b1'; then
	pass clash_refused_with_reason
else
	fail clash_refused_with_reason "state $(req_field "$Q2" state), reason '$reason'"
fi

# An activity request.
http POST "$CU/api/requests" '{"hub": "fjell", "kind": "activity", "title": "Språkkafé", "organiser": "Røde Kors", "category": "språkkafé", "target": "voksne", "date": "2030-01-10", "start": "12:00", "end": "14:00"}' >"$T/q3"
Q3=$(json_get id <"$T/q3")
wait_for 15 sh -c "[ -n \"\$(curl -s '$CU/api/requests?hub=fjell' | python3 -c 'import json,sys; print([r.get(\"result\") or \"\" for r in json.load(sys.stdin) if r[\"id\"] == \"$Q3\"][0])')\" ]"
AID=$(req_field "$Q3" result)
if [ "$(req_field "$Q3" state)" = accepted ] &&
	hk fjell activity show "$AID" --json 2>/dev/null | grep -q 'Språkkafé'; then
	pass activity_request
else
	fail activity_request "state $(req_field "$Q3" state), result '$AID'"
fi

# Bad input: 400 with a message, nothing stored.
before=$(nreq)
bad() { # NAME BODY EXPECT
	http POST "$CU/api/requests" "$2" >"$T/bad"
	if [ "$(http_status)" = 400 ] && grep -q "$3" "$T/bad" &&
		[ "$(nreq)" = "$before" ]; then
		pass "$1"
	else
		fail "$1" "got $(http_status): $(cat "$T/bad"), $(nreq) requests (was $before)"
	fi
}
bad bad_json '{"hub": "fjell", "kind": ' 'not valid JSON'
bad bad_date '{"hub": "fjell", "kind": "booking", "room": "r1", "org": "Blå Kors", "date": "2030-02-30", "start": "18:00", "end": "19:00"}' 'date'
bad bad_time '{"hub": "fjell", "kind": "booking", "room": "r1", "org": "Blå Kors", "date": "2030-02-03", "start": "25:00", "end": "19:00"}' 'start'
bad unknown_hub '{"hub": "strømsø", "kind": "booking", "room": "r1", "org": "Blå Kors", "date": "2030-02-03", "start": "18:00", "end": "19:00"}' 'error'
bad wrong_kind '{"hub": "fjell", "kind": "volunteer", "name": "Kari"}' 'must be'
bad missing_org '{"hub": "fjell", "kind": "booking", "room": "r1", "date": "2030-02-03", "start": "18:00", "end": "19:00"}' 'org'
bad other_hubs_room '{"hub": "fjell", "kind": "booking", "room": "konnerud:r1", "org": "Blå Kors", "date": "2030-02-03", "start": "18:00", "end": "19:00"}' 'room'

http GET "$CU/api/requests?hub=NOT%20A%20HUB" >"$T/b"
[ "$(http_status)" = 400 ] && pass list_bad_hub_400 ||
	fail list_bad_hub_400 "got $(http_status): $(cat "$T/b")"
