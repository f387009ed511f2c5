#!/bin/sh
# The hub's web API (docs/web-hub.md) against a real knute-hub with its web
# server on a free loopback port: status, rooms, the week's calendar, today's
# activities and attendance, bookings with the command line's validation and
# clash rule (nothing written on any error), volunteer search, the feeds
# (the command line's exports, the iCalendar one read by a parser), /metrics,
# errors and the page. One line per case: "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"

# expect NAME STATUS EXPR: the last answer had STATUS and the Python
# expression EXPR holds for v, its JSON body.
expect() {
	if [ "$(http_status)" = "$2" ] && jcheck "$T/http.body" "$3"; then
		pass "$1"
	else
		fail "$1" "status $(http_status), wanted $2: $(head -c 500 "$T/http.body")"
	fi
}

# count KIND: the number of records of KIND at fjell.
count() {
	hk fjell status --json | python3 -c 'import json,sys
print(json.load(sys.stdin)["records"][sys.argv[1]])' "$1"
}

# ---- central and one hub, Fjell, with rooms, bookings, activities and
# volunteers made on the command line ----
central_init
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Fjell bydelshus, storsalen" --capacity 80 \
	--open "mon-sun 08:00-23:00" >/dev/null
hk fjell room add --name "Møterom Åssiden" --capacity 12 >/dev/null
# Every Tuesday and Thursday in January-February 2027; Thursday 14 January
# cancelled.
hk fjell booking add --room r1 --from "2027-01-05 17:00" --to "2027-01-05 19:00" \
	--org "Røde Kors" --purpose "Førstehjelpskurs" --contact "Kari Nordmann" \
	--weekly --days tue,thu --until 2027-02-25 >/dev/null
hk fjell booking cancel b1 --date 2027-01-14 >/dev/null
hk fjell activity add --title "Leksehjelp 5.-7. trinn" --organiser "Frivilligsentralen" \
	--category leksehjelp --target barn --from "2027-01-04 15:00" \
	--to "2027-01-04 17:00" --weekly --days mon,wed --until 2027-06-14 \
	--room r2 --volunteers-needed 2 >/dev/null
hk fjell volunteer add --name "Kari Nordmann" --phone "+47 912 34 567" \
	--email kari@example.no --birth-year 1985 --org "Røde Kors" \
	--skills "leksehjelp, matte" --languages "norsk, engelsk" \
	--available "mon 14:00-20:00, wed 14:00-20:00" >/dev/null
hk fjell volunteer add --name "Ahmed Yusuf" --phone "+47 934 56 789" \
	--org "Kirkens Bymisjon" --skills "språkkafé" \
	--languages "arabisk, norsk, somali" --available "tue 17:00-21:00" >/dev/null
hk fjell activity assign a1 --volunteer v1 >/dev/null
hk fjell activity assign a1 --volunteer v2 --date 2027-01-06 >/dev/null
central_start
hub_start_web fjell || {
	fail hub_web_starts "knute-hub --http did not answer: $(tail -n 5 "$T/fjell.log")"
	exit 1
}
U=$(hub_url fjell)

# ---- GET /api/status ----
wait_for 10 synced fjell
http GET "$U/api/status" >/dev/null
HEAD=$(hub_head fjell)
expect api_status 200 "v['hub'] == 'fjell' and v['name'] == 'Knutepunkt Fjell' and v['head_seq'] == $HEAD and v['acked_seq'] == $HEAD and v['pending'] == 0 and v['connected'] is True and v['last_contact'] is not None"

# ---- GET /api/rooms ----
http GET "$U/api/rooms" >/dev/null
expect api_rooms 200 "[r['id'] for r in v['rooms']] == ['fjell:r1', 'fjell:r2'] and v['rooms'][1]['name'] == 'Møterom Åssiden' and v['rooms'][0]['capacity'] == 80"

# ---- GET /api/calendar ----
# Any date of the week names the week: Saturday 9 January is the week of
# Monday 4 January. The series holds Tuesday and Thursday once each.
http GET "$U/api/calendar?week=2027-01-09" >/dev/null
expect calendar_weekly_series 200 "v['week'] == '2027-01-04' and v['end'] == '2027-01-10' and len(v['days']) == 7 and [e['start'] for e in v['rooms'][0]['events'] if e['id'] == 'fjell:b1'] == ['2027-01-05T17:00', '2027-01-07T17:00'] and v['rooms'][0]['events'][0]['end'] == '2027-01-05T19:00' and v['rooms'][0]['events'][0]['start_utc'] == 1799164800"
expect calendar_activity_in_room 200 "[(e['id'], e['kind'], e['start']) for e in v['rooms'][1]['events']] == [('fjell:a1', 'activity', '2027-01-04T15:00'), ('fjell:a1', 'activity', '2027-01-06T15:00')]"
# The next week: Thursday 14 January is cancelled.
http GET "$U/api/calendar?week=2027-01-11" >/dev/null
expect calendar_cancelled_left_out 200 "v['week'] == '2027-01-11' and [e['start'] for e in v['rooms'][0]['events']] == ['2027-01-12T17:00']"
http GET "$U/api/calendar?week=2026-13-40" >/dev/null
expect calendar_bad_week_400 400 "'week' in v['error'] and 'YYYY-MM-DD' in v['error']"

# ---- GET /api/today ----
http GET "$U/api/today?date=2027-01-06" >/dev/null
expect today_volunteers 200 "v['date'] == '2027-01-06' and len(v['activities']) == 1 and v['activities'][0]['id'] == 'fjell:a1' and v['activities'][0]['room'] == 'fjell:r2' and v['activities'][0]['start'] == '2027-01-06T15:00' and sorted((p['name'], p['assigned']) for p in v['activities'][0]['volunteers']) == [('Ahmed Yusuf', 'date'), ('Kari Nordmann', 'series')]"
http GET "$U/api/today?date=2027-01-04" >/dev/null
expect today_single_date_assignment_only_that_day 200 "[p['id'] for p in v['activities'][0]['volunteers']] == ['fjell:v1'] and v['activities'][0]['volunteers'][0]['attendance'] is None"
http GET "$U/api/today?date=2027-01-05" >/dev/null
expect today_no_activity 200 "v['activities'] == []"

# ---- POST /api/attendance ----
http POST "$U/api/attendance" '{"activity":"fjell:a1","volunteer":"v1","date":"2027-01-04","status":"present"}' >/dev/null
expect attendance_post_201 201 "v['id'] == 'fjell:t1' and v['status'] == 'present' and v['occurrence'] == 1799071200"
http GET "$U/api/today?date=2027-01-04" >/dev/null
expect attendance_in_today 200 "v['activities'][0]['volunteers'][0]['attendance'] == 'present' and v['activities'][0]['volunteers'][0]['attendance_id'] == 'fjell:t1'"
# One record per volunteer and occurrence: a second one changes it.
http POST "$U/api/attendance" '{"activity":"a1","volunteer":"fjell:v1","date":"2027-01-04","status":"excused"}' >/dev/null
if [ "$(http_status)" = 200 ] && jcheck "$T/http.body" "v['id'] == 'fjell:t1' and v['status'] == 'excused'" &&
	[ "$(count attendance)" = 1 ] &&
	hk fjell activity show a1 --json | grep -q '"excused"'; then
	pass attendance_updates_existing_200
else
	fail attendance_updates_existing_200 "$(http_status) $(cat "$T/http.body") count $(count attendance)"
fi
SEQ=$(hub_head fjell)
http POST "$U/api/attendance" '{"activity":"a1","volunteer":"v2","date":"2027-01-04","status":"present"}' >/dev/null
expect attendance_not_assigned_400 400 "'not assigned' in v['error']"
http POST "$U/api/attendance" '{"activity":"a1","volunteer":"v1","date":"2027-01-05","status":"present"}' >/dev/null
expect attendance_no_occurrence_404 404 "'does not take place on 2027-01-05' in v['error']"
http POST "$U/api/attendance" '{"activity":"a1","volunteer":"v1","date":"2027-01-04","status":"late"}' >/dev/null
expect attendance_bad_status_400 400 "'present, no-show or excused' in v['error']"
http POST "$U/api/attendance" '{"activity":"a9","volunteer":"v1","date":"2027-01-04","status":"present"}' >/dev/null
expect attendance_unknown_activity_404 404 "'fjell:a9' in v['error']"
if [ "$(hub_head fjell)" = "$SEQ" ]; then
	pass attendance_errors_write_nothing
else
	fail attendance_errors_write_nothing "head seq $SEQ -> $(hub_head fjell)"
fi

# ---- POST /api/bookings ----
http POST "$U/api/bookings" '{"room":"fjell:r1","org":"Blå Kors","contact":"Ola Hansen","purpose":"Samtalegruppe","date":"2027-01-19","start":"10:00","end":"12:00"}' >/dev/null
NEW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$T/http.body" 2>/dev/null)
expect booking_post_201 201 "v['id'].startswith('fjell:b') and v['org'] == 'Blå Kors' and v['start_local'] == '2027-01-19T10:00' and v['start'] == 1800349200 and v['status'] == 'confirmed'"
if [ -n "$NEW" ] && hk fjell booking show "$NEW" --json >"$T/show.json" 2>"$T/show.err" &&
	jcheck "$T/show.json" "v['org'] == 'Blå Kors' and v['room'] == 'fjell:r1' and v['contact'] == 'Ola Hansen' and v['start'] == 1800349200 and v['end'] == 1800356400"; then
	pass booking_exists_via_cli
else
	fail booking_exists_via_cli "id '$NEW': $(cat "$T/show.err" "$T/show.json" 2>/dev/null | head -c 300)"
fi
# A weekly booking with days as a list, and DST-correct times: 17:00 in
# winter is 16:00 UTC, in summer 15:00 UTC.
http POST "$U/api/bookings" '{"room":"r2","org":"Kirkens Bymisjon","date":"2027-03-23","start":"17:00","end":"18:00","weekly":true,"days":["tue"],"until":"2027-04-06","status":"pending"}' >/dev/null
WEEKLY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$T/http.body" 2>/dev/null)
expect booking_weekly_201 201 "v['weekly'] is True and v['days'] == 'tue' and v['until'] == '2027-04-06' and v['status'] == 'pending' and v['start'] == 1805817600"
http GET "$U/api/calendar?week=2027-03-30" >/dev/null
expect booking_weekly_summer_time 200 "[(e['start'], e['start_utc']) for e in v['rooms'][1]['events'] if e['id'] == '$WEEKLY'] == [('2027-03-30T17:00', 1806418800)]"

B0=$(count booking)
SEQ=$(hub_head fjell)
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-12","start":"18:00","end":"20:00"}' >/dev/null
expect booking_clash_409 409 "'fjell:b1' in v['error'] and 'Røde Kors' in v['error'] and v['clashes'][0]['with'] == 'fjell:b1' and v['clashes'][0]['start'] == '2027-01-12T18:00'"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-12","start":"18:00"' >/dev/null
expect booking_bad_json_400 400 "'not valid JSON' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2026-13-40","start":"18:00","end":"20:00"}' >/dev/null
expect booking_bad_date_400 400 "v['error'].startswith('date') and '2026-13-40' in v['error'] and 'YYYY-MM-DD' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"18:00","end":"25:30"}' >/dev/null
expect booking_bad_time_400 400 "v['error'].startswith('end') and 'HH:MM' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-03-28","start":"02:30","end":"04:00"}' >/dev/null
expect booking_skipped_hour_400 400 "'does not exist' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","date":"2027-01-20","start":"18:00","end":"20:00"}' >/dev/null
expect booking_missing_org_400 400 "v['error'].startswith('org')"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"20:00","end":"18:00"}' >/dev/null
expect booking_end_before_start_400 400 "'end must be after start' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"07:00","end":"09:00"}' >/dev/null
expect booking_outside_hours_409 409 "'refused' in v['error'] and v['clashes'][0]['why'] == 'hours'"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"18:00","end":"20:00","weekly":true}' >/dev/null
expect booking_weekly_needs_until_400 400 "'until' in v['error']"
http POST "$U/api/bookings" '{"room":"r9","org":"Frivilligsentralen","date":"2027-01-20","start":"18:00","end":"20:00"}' >/dev/null
expect booking_unknown_room_404 404 "'fjell:r9' in v['error']"
http POST "$U/api/bookings" '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"18:00","end":"20:00","colour":"red"}' >/dev/null
expect booking_unknown_field_400 400 "'colour' in v['error']"
curl -s -o "$T/http.body" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
	--data-binary '{"room":"r1","org":"Frivilligsentralen","date":"2027-01-20","start":"18:00","end":"20:00"}' \
	"$U/api/bookings" >"$T/http.status"
expect booking_wrong_content_type_415 415 "'application/json' in v['error']"
if [ "$(count booking)" = "$B0" ] && [ "$(hub_head fjell)" = "$SEQ" ]; then
	pass booking_errors_write_nothing
else
	fail booking_errors_write_nothing "bookings $B0 -> $(count booking), head seq $SEQ -> $(hub_head fjell)"
fi

# ---- GET /api/volunteers ----
http GET "$U/api/volunteers?skill=Matte" >/dev/null
expect volunteers_by_skill 200 "[p['name'] for p in v['volunteers']] == ['Kari Nordmann'] and v['volunteers'][0]['skills'] == ['leksehjelp', 'matte']"
if grep -q '912\|example.no\|1985\|phone\|email\|birth' "$T/http.body"; then
	fail volunteers_no_personal_contact "$(cat "$T/http.body")"
else
	pass volunteers_no_personal_contact
fi
http GET "$U/api/volunteers?language=arabisk" >/dev/null
expect volunteers_by_language 200 "[p['id'] for p in v['volunteers']] == ['fjell:v2']"
http GET "$U/api/volunteers?day=tue&from=17:30&to=20:00" >/dev/null
expect volunteers_by_day_and_hours 200 "[p['id'] for p in v['volunteers']] == ['fjell:v2']"
http GET "$U/api/volunteers?day=mon&from=13:00&to=15:00" >/dev/null
expect volunteers_hours_not_covered 200 "v['volunteers'] == [] and v['count'] == 0"
http GET "$U/api/volunteers?day=wed&language=norsk" >/dev/null
expect volunteers_day_and_language 200 "[p['id'] for p in v['volunteers']] == ['fjell:v1']"
http GET "$U/api/volunteers?day=someday" >/dev/null
expect volunteers_bad_day_400 400 "'weekday' in v['error']"

# ---- feeds ----
ICALPY=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import icalendar' 2>/dev/null; then
		ICALPY=$p
		break
	fi
done
curl -s -D "$T/ics.head" -o "$T/feed.ics" "$U/feeds/bookings.ics"
if [ -z "$ICALPY" ]; then
	fail feed_ics_parses "python3's icalendar module is missing (scripts/install-deps.sh installs python3-icalendar)"
elif grep -qi '^content-type: text/calendar; charset=utf-8' "$T/ics.head" &&
	grep -qi '^content-disposition: .*filename="fjell-bookings.ics"' "$T/ics.head" &&
	out=$("$ICALPY" - "$T/feed.ics" "$NEW" 2>&1 <<'EOF'
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
ev = {str(e.get("UID")): e for e in cal.walk("VEVENT")}
new = ev[sys.argv[2] + "@knutepunkt"]
assert "Blå Kors" in str(new.get("SUMMARY")), new.get("SUMMARY")
assert new.decoded("DTSTART").strftime("%Y-%m-%d %H:%M") == "2027-01-19 10:00"
assert str(new.decoded("DTSTART").tzinfo).endswith("Oslo") or new.decoded("DTSTART").utcoffset().total_seconds() == 3600
b1 = ev["fjell:b1@knutepunkt"]
assert "FREQ=WEEKLY" in b1.get("RRULE").to_ical().decode()
assert len(cal.walk("VTIMEZONE")) == 1
EOF
	); then
	pass feed_ics_parses
else
	fail feed_ics_parses "$(head -c 300 "$T/ics.head") $out"
fi
# The same bytes as the command line's export, but for the DTSTAMP (now).
hk fjell booking export --format ics >"$T/cli.ics"
if [ -s "$T/cli.ics" ] && [ "$(grep -v '^DTSTAMP' "$T/cli.ics")" = "$(grep -v '^DTSTAMP' "$T/feed.ics")" ]; then
	pass feed_ics_same_as_cli
else
	fail feed_ics_same_as_cli "$(diff "$T/cli.ics" "$T/feed.ics" | head -n 8)"
fi
curl -s -D "$T/csv.head" -o "$T/feed.csv" "$U/feeds/bookings.csv"
hk fjell booking export --format csv >"$T/cli.csv"
if grep -qi '^content-type: text/csv; charset=utf-8' "$T/csv.head" &&
	head -n 1 "$T/feed.csv" | grep -q '^id,room,room_name,org,' &&
	grep -q "^fjell:b1,fjell:r1,.*Røde Kors" "$T/feed.csv" &&
	grep -q "^$NEW,fjell:r1,.*Blå Kors" "$T/feed.csv" &&
	cmp -s "$T/cli.csv" "$T/feed.csv"; then
	pass feed_csv_bookings
else
	fail feed_csv_bookings "$(head -c 400 "$T/feed.csv")"
fi
http GET "$U/feeds/bookings.csv?room=r2" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q "^$WEEKLY," "$T/http.body" && ! grep -q '^fjell:b1,' "$T/http.body"; then
	pass feed_csv_one_room
else
	fail feed_csv_one_room "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/feeds/bookings.ics?room=r9" >/dev/null
expect feed_unknown_room_404 404 "'fjell:r9' in v['error']"
http GET "$U/feeds/activities.ics" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q '^UID:fjell:a1@knutepunkt' "$T/http.body"; then
	pass feed_activities_ics
else
	fail feed_activities_ics "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/feeds/activities.csv" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q '^fjell:a1,' "$T/http.body"; then
	pass feed_activities_csv
else
	fail feed_activities_csv "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/feeds/activities.csv?room=r1" >/dev/null
if [ "$(http_status)" = 200 ] && head -n 1 "$T/http.body" | grep -q '^id,' &&
	! grep -q '^fjell:a1,' "$T/http.body"; then
	pass feed_activities_other_room
else
	fail feed_activities_other_room "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/feeds/rooms.csv" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q '^fjell:r2,Møterom Åssiden' "$T/http.body"; then
	pass feed_rooms_csv
else
	fail feed_rooms_csv "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/feeds/volunteers.csv" >/dev/null
hk fjell volunteer export --format csv >"$T/cli-vol.csv"
if [ "$(http_status)" = 200 ] && grep -q '^fjell:v1,' "$T/http.body" &&
	! grep -q '912\|example.no\|Kari Nordmann\|1985' "$T/http.body" &&
	cmp -s "$T/cli-vol.csv" "$T/http.body"; then
	pass feed_volunteers_csv_no_personal
else
	fail feed_volunteers_csv_no_personal "$(http_status) $(head -c 300 "$T/http.body")"
fi

# ---- /metrics, errors, the page ----
http GET "$U/metrics" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q '^knute_pending_changes [0-9]' "$T/http.body"; then
	pass metrics_pending_changes
else
	fail metrics_pending_changes "$(http_status) $(head -c 300 "$T/http.body")"
fi
http GET "$U/api/nothing-here" >/dev/null
expect unknown_api_path_404 404 "'/api/nothing-here' in v['error']"
http GET "$U/feeds/nothing.ics" >/dev/null
expect unknown_feed_404 404 "'error' in v"
http GET "$U/api/bookings" >/dev/null
expect wrong_method_405 405 "'POST' in v['error']"
http PUT "$U/api/rooms" '{}' >/dev/null
expect wrong_method_put_405 405 "'GET' in v['error']"
http GET "$U/" >/dev/null
if [ "$(http_status)" = 200 ] && grep -q 'id="booking-form"' "$T/http.body" &&
	grep -q 'id="calendar"' "$T/http.body" && grep -q 'id="today"' "$T/http.body" &&
	curl -sf "$U/hub.js" | grep -q '/api/bookings' &&
	curl -sf "$U/common.js" | grep -q 'KP' &&
	curl -sf "$U/style.css" | grep -q '/\* hub \*/'; then
	pass page_served
else
	fail page_served "$(http_status) $(head -c 200 "$T/http.body")"
fi
