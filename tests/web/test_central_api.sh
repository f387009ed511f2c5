#!/bin/sh
# Central's dashboard API (docs/web-central.md): GET /api/overview,
# GET /api/districts/HUB, /metrics per hub and the dashboard page, with
# knute-central and two real hubs (Fjell and Konnerud) on loopback. The
# data is made with the knute command line at the hubs and reaches
# central by sync; the expected figures are worked out by hand below.
# Each case prints "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"

# The week of Monday 2030-01-07 to Sunday 2030-01-13 (winter time, no
# clock change), asked for with ?week=2030-01-09.
WEEK=2030-01-09

central_init
hub_init fjell "Knutepunkt Fjell"
hub_init konnerud "Knutepunkt Konnerud"

setup() {
	# Fjell. Storsalen is open mon-fri 08-22 and sat 10-16 (76 h a
	# week), closed on Wednesday 9 January (minus 14 h): 62 h. Møterommet
	# has no opening hours: 7 x 24 = 168 h.
	hk fjell room add --name "Storsalen" --capacity 80 \
		--open "mon-fri 08:00-22:00, sat 10:00-16:00" &&
		hk fjell room add --name "Møterommet" --capacity 12 &&
		hk fjell room close r1 --from 2030-01-09 --to 2030-01-09 \
			--reason "Vask" &&
		# b1: weekly on Monday and Friday 17-19, Friday 11
		# January cancelled: one occurrence this week, 2 h.
		hk fjell booking add --room r1 --from "2030-01-07 17:00" \
			--to "2030-01-07 19:00" --org "Røde Kors" --weekly \
			--days mon,fri --until 2030-02-28 &&
		hk fjell booking cancel b1 --date 2030-01-11 &&
		# b2: Tuesday 10-13 in Møterommet, 3 h.
		hk fjell booking add --room r2 --from "2030-01-08 10:00" \
			--to "2030-01-08 13:00" --org "Blå Kors" &&
		# b3: next week; b4: cancelled. Neither counts.
		hk fjell booking add --room r2 --from "2030-01-15 10:00" \
			--to "2030-01-15 12:00" --org "Blå Kors" &&
		hk fjell booking add --room r1 --from "2030-01-11 09:00" \
			--to "2030-01-11 10:00" --org "Frelsesarmeen" &&
		hk fjell booking cancel b4 &&
		# a1: Tuesday and Thursday 17-19 in Storsalen (4 h this
		# week), two volunteers needed, police certificate required.
		hk fjell activity add --title "Leksehjelp 5.-7. trinn" \
			--organiser "Røde Kors" --category leksehjelp \
			--target barn --from "2030-01-08 17:00" \
			--to "2030-01-08 19:00" --weekly --days tue,thu \
			--until 2030-03-01 --room r1 --volunteers-needed 2 \
			--police-required &&
		# a2: Wednesday evening, no room, one volunteer needed.
		hk fjell activity add --title "Språkkafé" \
			--organiser "Frivilligsentralen" --category språkkafé \
			--target voksne --from "2030-01-09 18:00" \
			--to "2030-01-09 20:00" --volunteers-needed 1 &&
		# a3: next week only.
		hk fjell activity add --title "Fotball" --organiser "Fjell IL" \
			--category trening --target ungdom \
			--from "2030-01-16 18:00" --to "2030-01-16 20:00" &&
		# v1 consents and has a police certificate; v2 does not
		# consent (central sees neither name nor certificate).
		hk fjell volunteer add --name "Kari Nordmann" \
			--skills "leksehjelp, matte" --languages "norsk, engelsk" \
			--police-role leksehjelper --police-shown 2025-08-15 \
			--consent &&
		hk fjell volunteer add --name "Ahmed Yusuf" \
			--skills "språkkafé, matte" --languages "arabisk, norsk" \
			--police-role leksehjelper --police-shown 2025-09-01 \
			--no-consent &&
		# a1: Kari on the whole series, Ahmed on Tuesday only, so
		# Thursday has one of the two needed.
		hk fjell activity assign a1 --volunteer v1 &&
		hk fjell activity assign a1 --volunteer v2 --date 2030-01-08 &&
		# Konnerud: the grendehus is open every day 09-21: 84 h.
		hk konnerud room add --name "Konnerud grendehus" --capacity 60 \
			--open "mon-sun 09:00-21:00" &&
		hk konnerud booking add --room r1 --from "2030-01-12 12:00" \
			--to "2030-01-12 15:00" --org "Kirkens Bymisjon" &&
		hk konnerud activity add --title "Møteplass" \
			--organiser "Kirkens Bymisjon" --category møteplass \
			--target alle --from "2030-01-07 10:00" \
			--to "2030-01-07 12:00" --weekly --until 2030-06-24 \
			--room r1 &&
		hk konnerud volunteer add --name "Solveig Åsheim" \
			--skills leksehjelp --languages "norsk, polsk" --consent &&
		# Solveig (Konnerud, consented, no police certificate)
		# helps at Fjell's homework help on Tuesday 8 January 17:00
		# (1894118400): the hub checks the police rule only for its
		# own volunteers, so central names her.
		printf '%s\n' '{"kind": "assignment", "activity": "fjell:a1", "volunteer": "konnerud:v1", "occurrence": 1894118400}' |
		hk fjell import -
}
if setup >"$T/setup.out" 2>&1; then
	pass setup
else
	fail setup "$(tail -n 5 "$T/setup.out" | tr '\n' ' ')"
	exit 1
fi

central_start_web
hub_start_web fjell
hub_start_web konnerud
if wait_for 30 synced fjell && wait_for 30 synced konnerud; then
	pass synced
else
	fail synced "the hubs did not sync with central in 30 s"
fi
CURL=$(central_url)

# ov EXPR: true when EXPR holds for v, the overview of the test week.
ov() { jcheck "$T/ov.json" "$1"; }
# dist HUB: the expression for HUB's district in v.
http GET "$CURL/api/overview?week=$WEEK" >"$T/ov.json"
cp "$T/ov.json" "$T/ov.first.json"
D_F='[d for d in v["districts"] if d["hub"] == "fjell"][0]'
D_K='[d for d in v["districts"] if d["hub"] == "konnerud"][0]'

if [ "$(http_status)" = 200 ] &&
	ov 'v["municipality"] == "Drammen kommune" and v["week_start"] == "2030-01-07" and v["week_end"] == "2030-01-13"' &&
	ov '[d["hub"] for d in v["districts"]] == ["fjell", "konnerud"]' &&
	ov "$D_F[\"name\"] == \"Knutepunkt Fjell\" and $D_K[\"name\"] == \"Knutepunkt Konnerud\""; then
	pass overview_districts
else
	fail overview_districts "$(http_status) $(head -c 600 "$T/ov.json")"
fi

# jcheck reads os.environ: the hub's head goes through the environment.
FJELL_HEAD=$(hub_head fjell)
export FJELL_HEAD
if ov "$D_F[\"online\"] is True and $D_K[\"online\"] is True and $D_F[\"since\"].endswith(\"Z\") and $D_F[\"last_seen\"].endswith(\"Z\") and $D_F[\"since\"] <= $D_F[\"last_seen\"] and $D_F[\"backlog\"] == 0 and $D_F[\"dead_letters\"] == 0"; then
	pass overview_online
else
	fail overview_online "$(head -c 800 "$T/ov.json")"
fi
if ov "$D_F[\"applied_seq\"] == int(os.environ[\"FJELL_HEAD\"]) and $D_F[\"applied_seq\"] > 0"; then
	pass overview_applied_seq
else
	fail overview_applied_seq "head $FJELL_HEAD: $(head -c 600 "$T/ov.json")"
fi

if ov "$D_F[\"bookings_week\"] == 2 and $D_K[\"bookings_week\"] == 1 and v[\"totals\"][\"bookings_week\"] == 3"; then
	pass overview_bookings_week
else
	fail overview_bookings_week "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["bookings_week"]) for d in v["districts"]])' "$T/ov.json")"
fi

if ov "$D_F[\"activities_week\"] == {\"total\": 2, \"by_category\": {\"leksehjelp\": 1, \"språkkafé\": 1}, \"by_target\": {\"barn\": 1, \"voksne\": 1}} and $D_K[\"activities_week\"][\"by_category\"] == {\"møteplass\": 1} and v[\"totals\"][\"activities_week\"][\"total\"] == 3 and v[\"totals\"][\"activities_week\"][\"by_target\"] == {\"barn\": 1, \"voksne\": 1, \"alle\": 1}"; then
	pass overview_activities_by_category_target
else
	fail overview_activities_by_category_target "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["activities_week"]) for d in v["districts"]])' "$T/ov.json")"
fi

# Storsalen: 62 h open, 2 h (b1) + 4 h (a1) booked; Møterommet: 168 h
# open, 3 h booked (b2). Konnerud: 84 h open, 3 h (b1) + 2 h (a1).
if ov "[(r[\"id\"], r[\"name\"], r[\"open_hours\"], r[\"booked_hours\"]) for r in $D_F[\"room_use\"][\"rooms\"]] == [(\"fjell:r1\", \"Storsalen\", 62, 6), (\"fjell:r2\", \"Møterommet\", 168, 3)] and $D_F[\"room_use\"][\"open_hours\"] == 230 and $D_F[\"room_use\"][\"booked_hours\"] == 9 and $D_K[\"room_use\"][\"open_hours\"] == 84 and $D_K[\"room_use\"][\"booked_hours\"] == 5 and v[\"totals\"][\"room_use\"] == {\"open_hours\": 314, \"booked_hours\": 14}"; then
	pass overview_room_use
else
	fail overview_room_use "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["room_use"]) for d in v["districts"]], v["totals"]["room_use"])' "$T/ov.json")"
fi

if ov "$D_F[\"volunteers\"][\"count\"] == 2 and $D_F[\"volunteers\"][\"by_skill\"] == {\"leksehjelp\": 1, \"matte\": 2, \"språkkafé\": 1} and $D_F[\"volunteers\"][\"by_language\"] == {\"norsk\": 2, \"engelsk\": 1, \"arabisk\": 1} and v[\"totals\"][\"volunteers\"][\"by_language\"][\"norsk\"] == 3 and v[\"totals\"][\"volunteers\"][\"count\"] == 3"; then
	pass overview_volunteers_by_skill_language
else
	fail overview_volunteers_by_skill_language "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["volunteers"]) for d in v["districts"]])' "$T/ov.json")"
fi

if ov "$D_F[\"volunteers\"][\"named\"] == [\"Kari Nordmann\"] and $D_K[\"volunteers\"][\"named\"] == [\"Solveig Åsheim\"]" &&
	! grep -q "Ahmed" "$T/ov.json"; then
	pass overview_names_only_with_consent
else
	fail overview_names_only_with_consent "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["volunteers"]["named"]) for d in v["districts"]])' "$T/ov.json"); Ahmed: $(grep -c Ahmed "$T/ov.json")"
fi

# a1 needs 2: Tuesday has Kari, Ahmed and Solveig, Thursday only Kari.
# a2 needs 1
# and has none. Konnerud's Møteplass needs none.
if ov "$D_F[\"lacking_volunteers\"] == [{\"id\": \"fjell:a1\", \"title\": \"Leksehjelp 5.-7. trinn\", \"needed\": 2, \"assigned\": 1}, {\"id\": \"fjell:a2\", \"title\": \"Språkkafé\", \"needed\": 1, \"assigned\": 0}] and $D_K[\"lacking_volunteers\"] == [] and v[\"totals\"][\"lacking_volunteers\"] == 2"; then
	pass overview_lacking_volunteers
else
	fail overview_lacking_volunteers "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["lacking_volunteers"]) for d in v["districts"]])' "$T/ov.json")"
fi

# a1 requires a police certificate: Kari has shown one; Solveig
# (consented) has not: named; Ahmed did not consent: counted unknown.
if ov "$D_F[\"missing_police\"] == [{\"activity\": \"fjell:a1\", \"title\": \"Leksehjelp 5.-7. trinn\", \"volunteer\": \"Solveig Åsheim\"}] and $D_F[\"police_unknown\"] == 1 and $D_K[\"missing_police\"] == [] and $D_K[\"police_unknown\"] == 0 and v[\"totals\"][\"missing_police\"] == 1 and v[\"totals\"][\"police_unknown\"] == 1"; then
	pass overview_missing_police
else
	fail overview_missing_police "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["missing_police"], d["police_unknown"]) for d in v["districts"]])' "$T/ov.json")"
fi

# Without ?week: this week in Europe/Oslo, with nothing of 2030 in it.
THIS_MONDAY=$(python3 -c 'import datetime, zoneinfo
t = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Oslo")).date()
print((t - datetime.timedelta(days=t.weekday())).isoformat())')
http GET "$CURL/api/overview" >"$T/ov.json"
if [ "$(http_status)" = 200 ] && ov "v[\"week_start\"] == \"$THIS_MONDAY\" and $D_F[\"bookings_week\"] == 0 and $D_F[\"activities_week\"][\"total\"] == 0 and $D_F[\"room_use\"][\"booked_hours\"] == 0"; then
	pass overview_default_week
else
	fail overview_default_week "$(http_status) $(head -c 300 "$T/ov.json")"
fi

# The next week: b1 on Monday and Friday, b3; a1 twice, a3.
http GET "$CURL/api/overview?week=2030-01-14" >"$T/ov.json"
if ov "v[\"week_start\"] == \"2030-01-14\" and $D_F[\"bookings_week\"] == 3 and $D_F[\"activities_week\"][\"by_category\"] == {\"leksehjelp\": 1, \"trening\": 1}"; then
	pass overview_other_week
else
	fail overview_other_week "$(head -c 300 "$T/ov.json")"
fi

for bad in 2030-13-01 2030-02-30 tomorrow "2030-01-09%2010:00"; do
	body=$(http GET "$CURL/api/overview?week=$bad")
	if [ "$(http_status)" != 400 ] || ! printf '%s' "$body" | jcheck /dev/stdin 'list(v) == ["error"] and "YYYY-MM-DD" in v["error"]'; then
		fail overview_bad_week "$bad: $(http_status) $body"
		bad=
		break
	fi
done
[ -n "$bad" ] && pass overview_bad_week

# ---- one district ----
http GET "$CURL/api/districts/fjell?week=$WEEK" >"$T/d.json"
if [ "$(http_status)" = 200 ] &&
	jcheck "$T/d.json" 'v["hub"] == "fjell" and v["name"] == "Knutepunkt Fjell" and v["online"] is True and v["bookings_week"] == 2 and v["week_start"] == "2030-01-07" and v["room_use"]["booked_hours"] == 9'; then
	pass district_figures
else
	fail district_figures "$(http_status) $(head -c 400 "$T/d.json")"
fi
if jcheck "$T/d.json" '[(r["id"], r["capacity"], r["open"], r["open_hours"], r["booked_hours"]) for r in v["rooms"]] == [("fjell:r1", 80, "mon-fri 08:00-22:00, sat 10:00-16:00", 62, 6), ("fjell:r2", 12, None, 168, 3)]'; then
	pass district_rooms
else
	fail district_rooms "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("rooms"))' "$T/d.json")"
fi
# a1 on Tuesday (3 of 2) and Thursday (1 of 2), a2 on Wednesday (0 of 1).
if jcheck "$T/d.json" '[(a["id"], a["date"], a["day"], a["time"], a["room"], a["room_name"], a["assigned"], a["needed"]) for a in v["activities"]] == [("fjell:a1", "2030-01-08", "tue", "17:00-19:00", "fjell:r1", "Storsalen", 3, 2), ("fjell:a2", "2030-01-09", "wed", "18:00-20:00", None, None, 0, 1), ("fjell:a1", "2030-01-10", "thu", "17:00-19:00", "fjell:r1", "Storsalen", 1, 2)] and v["activities"][0]["title"] == "Leksehjelp 5.-7. trinn" and v["activities"][0]["category"] == "leksehjelp" and v["activities"][0]["target"] == "barn" and v["activities"][0]["start"] == "2030-01-08T16:00:00Z"'; then
	pass district_activities
else
	fail district_activities "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("activities"))' "$T/d.json")"
fi
if jcheck "$T/d.json" '[(b["id"], b["org"], b["room"], b["date"], b["time"]) for b in v["bookings"]] == [("fjell:b1", "Røde Kors", "fjell:r1", "2030-01-07", "17:00-19:00"), ("fjell:b2", "Blå Kors", "fjell:r2", "2030-01-08", "10:00-13:00")]'; then
	pass district_bookings
else
	fail district_bookings "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("bookings"))' "$T/d.json")"
fi

body=$(http GET "$CURL/api/districts/strømsø")
s1=$(http_status)
body2=$(http GET "$CURL/api/districts/stromso")
if [ "$s1" = 404 ] && [ "$(http_status)" = 404 ] &&
	printf '%s' "$body2" | jcheck /dev/stdin 'list(v) == ["error"] and "stromso" in v["error"]'; then
	pass district_unknown_404
else
	fail district_unknown_404 "$s1 $body / $(http_status) $body2"
fi
body=$(http GET "$CURL/api/districts/fjell?week=2030-1-9")
if [ "$(http_status)" = 400 ] && printf '%s' "$body" | jcheck /dev/stdin 'list(v) == ["error"]'; then
	pass district_bad_week
else
	fail district_bad_week "$(http_status) $body"
fi
body=$(http POST "$CURL/api/overview" '{}')
if [ "$(http_status)" = 405 ] && printf '%s' "$body" | jcheck /dev/stdin '"error" in v'; then
	pass overview_post_refused
else
	fail overview_post_refused "$(http_status) $body"
fi

# ---- /metrics ----
http GET "$CURL/metrics" >"$T/metrics"
if [ "$(http_status)" = 200 ] &&
	grep -q '^knute_hub_online{hub="fjell"} 1$' "$T/metrics" &&
	grep -q '^knute_hub_online{hub="konnerud"} 1$' "$T/metrics" &&
	grep -q "^knute_hub_applied_seq{hub=\"fjell\"} $FJELL_HEAD\$" "$T/metrics" &&
	grep -q '^knute_hub_backlog_changes{hub="fjell"} 0$' "$T/metrics" &&
	grep -q '^knute_hub_dead_letters{hub="konnerud"} 0$' "$T/metrics" &&
	grep -q '^knute_hub_seconds_since_seen{hub="fjell"} [0-9]$' "$T/metrics" &&
	grep -q '^# TYPE knute_hub_seconds_since_seen gauge$' "$T/metrics" &&
	grep -q '^knute_messages_received_total [1-9]' "$T/metrics"; then
	pass metrics_per_hub
else
	fail metrics_per_hub "$(http_status) $(grep knute_hub "$T/metrics" | tr '\n' ' ')"
fi

# ---- the dashboard page ----
http GET "$CURL/" >"$T/page.html"
if [ "$(http_status)" = 200 ] && grep -q 'central.js' "$T/page.html" &&
	grep -q 'common.js' "$T/page.html" &&
	http GET "$CURL/central.js" >"$T/central.js" &&
	[ "$(http_status)" = 200 ] &&
	grep -q 'class="district"\|"district"' "$T/central.js" &&
	grep -q 'bookings-week' "$T/central.js" &&
	grep -q '/api/overview' "$T/central.js"; then
	pass dashboard_page
else
	fail dashboard_page "$(http_status) $(head -c 300 "$T/page.html")"
fi
http GET "$CURL/district.html" >"$T/district.html"
if [ "$(http_status)" = 200 ] && grep -q 'id="request-form"' "$T/district.html" &&
	grep -q '/api/districts/' "$T/central.js"; then
	pass district_page
else
	fail district_page "$(http_status) $(head -c 300 "$T/district.html")"
fi

# ---- a hub that stops shows offline, since it was last seen ----
hub_stop konnerud
offline() {
	http GET "$CURL/api/overview?week=$WEEK" >"$T/ov.json"
	ov "$D_K[\"online\"] is False"
}
if wait_for 30 offline &&
	ov "$D_K[\"since\"] == $D_K[\"last_seen\"] and $D_F[\"online\"] is True and $D_K[\"bookings_week\"] == 1"; then
	pass stopped_hub_offline
else
	fail stopped_hub_offline "$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print([(d["hub"], d["online"], d["since"], d["last_seen"]) for d in v["districts"]])' "$T/ov.json")"
fi
http GET "$CURL/metrics" >"$T/metrics"
if grep -q '^knute_hub_online{hub="konnerud"} 0$' "$T/metrics" &&
	grep -q '^knute_hub_online{hub="fjell"} 1$' "$T/metrics"; then
	pass metrics_offline
else
	fail metrics_offline "$(grep knute_hub_online "$T/metrics" | tr '\n' ' ')"
fi
