#!/bin/sh
# knute booking|activity export --format ics|csv, room|volunteer export
# --format csv, and knute import-csv: the iCalendar feed checked by a strict
# structural check and by a parser (python3-icalendar), summer time, EXDATE,
# CSV round trips into fresh hubs, bad rows refused by row number with
# nothing written. One line per case: "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"

# The python3 with the icalendar module (Debian's python3-icalendar, which
# scripts/install-deps.sh installs), or "" when there is none.
ICALPY=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import icalendar, dateutil' 2>/dev/null; then
		ICALPY=$p
		break
	fi
done

# check NAME COMMAND...: PASS when COMMAND succeeds, else FAIL with what
# it printed.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$out" | head -c 600)"
	fi
}

# hub_seq DIR: the oplog head of the store in DIR.
hub_seq() {
	"$K" --data "$1" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["head_seq"])' 2>/dev/null
}

# ---- a hub with Drammen's data ----
"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null
k() { "$K" --data "$D" "$@"; }
k room add --name "Fjell bydelshus, storsalen" --capacity 80 \
	--facilities "scene, kjøkken" --open "mon-sun 08:00-23:00" >/dev/null
k room add --name "Åssiden møterom" --capacity 12 --notes 'Nøkkel i "resepsjonen"' >/dev/null
k room close r1 --from 2027-12-24 --to 2027-12-26 --reason "Julestengt; kirkekonsert" >/dev/null
# A weekly series across the change to summer time on 2027-03-28, one date
# cancelled; the purpose long enough to fold, with æøå, ';' and ','.
PURPOSE="Førstehjelpskurs; nivå 1, del 2 – øving med hjertestarter og båre for frivillige på Åssiden, Fjell og Strømsø"
k booking add --room r1 --from "2027-03-16 17:00" --to "2027-03-16 19:00" \
	--org "Røde Kors" --purpose "$PURPOSE" --contact "Kari Nordmann" \
	--weekly --until 2027-04-06 >/dev/null
k booking cancel b1 --date 2027-03-30 >/dev/null
k booking add --room r2 --from "2027-03-18 18:00" --to "2027-03-18 20:00" \
	--org "Frivilligsentralen" --pending >/dev/null
k booking add --room r2 --from "2027-03-19 10:00" --to "2027-03-19 12:00" \
	--org "Blå Kors" >/dev/null
k booking cancel b3 >/dev/null
# Starts on a Monday but runs on tue,thu: its first date is the Tuesday.
k booking add --room r1 --from "2027-03-22 10:00" --to "2027-03-22 11:00" \
	--org "Kirkens Bymisjon" --weekly --days tue,thu --until 2027-04-01 >/dev/null
k activity add --title "Leksehjelp 5.-7. trinn" --organiser "Røde Kors" \
	--category leksehjelp --target barn --from "2027-03-16 15:00" \
	--to "2027-03-16 17:00" --weekly --days tue,thu --until 2027-04-08 \
	--room r2 --police-required --skills "matte, norsk" --volunteers-needed 3 >/dev/null
k activity add --title "Språkkafé" --organiser "Frivilligsentralen" \
	--category språkkafé --target voksne --from "2027-03-17 18:00" \
	--to "2027-03-17 20:00" --description 'Ta med "ordbok"
og godt humør' >/dev/null
k volunteer add --name "Kari Nordmann" --phone "+47 912 34 567" \
	--email kari@example.no --birth-year 1985 --org "Røde Kors" \
	--skills "leksehjelp, matte" --languages "norsk, engelsk" \
	--available "tue 14:00-20:00, thu 14:00-20:00" \
	--police-role leksehjelper --police-shown 2026-08-15 \
	--consent --consent-date 2026-09-01 >/dev/null
k volunteer add --name "Solveig Åsheim" --org "Kirkens Bymisjon" \
	--skills leksehjelp --languages "norsk, polsk" >/dev/null
k volunteer add --name "Ahmed Yusuf" --org Frivilligsentralen \
	--skills "språkkafé" --languages "arabisk, norsk, somali" \
	--no-consent --consent-date 2026-10-01 >/dev/null
k activity assign a1 --volunteer v1 >/dev/null
if [ "$(k status --json | python3 -c 'import json,sys; r=json.load(sys.stdin)["records"]; print(r["room"], r["booking"], r["activity"], r["volunteer"])')" = "2 4 2 3" ]; then
	pass export_setup
else
	fail export_setup "the hub's records were not made: $(k status 2>&1)"
fi

# ---- iCalendar: the structure, strictly ----
cat >"$T/icscheck.py" <<'EOF'
# A strict structural check of an iCalendar file (RFC 5545), with the
# standard library only: line ends, folding, nesting, required properties
# and the forms of the date-time, RRULE and EXDATE values.
import re, sys

data = open(sys.argv[1], "rb").read()
want_events = int(sys.argv[2])
errors = []
def err(msg):
    errors.append(msg)

if not data.endswith(b"\r\n"):
    err("the file does not end with CRLF")
raw_lines = data.split(b"\r\n")[:-1]
for n, line in enumerate(raw_lines, 1):
    if b"\n" in line or b"\r" in line:
        err("line %d: a bare CR or LF" % n)
    if len(line) > 75:
        err("line %d: %d octets (more than 75)" % (n, len(line)))
    try:
        line.decode("utf-8")  # a fold never splits a character
    except UnicodeDecodeError:
        err("line %d: not valid UTF-8 on its own (a fold split a character)" % n)
    if n == 1 and line.startswith(b" "):
        err("the first line is a continuation")
# Unfold.
lines = []
for line in raw_lines:
    if line.startswith(b" ") or line.startswith(b"\t"):
        lines[-1] += line[1:]
    else:
        lines.append(line)
lines = [l.decode("utf-8") for l in lines]

name_re = re.compile(r"^([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=[^;:]*)*):(.*)$")
local_re = re.compile(r"^\d{8}T\d{6}$")
utc_re = re.compile(r"^\d{8}T\d{6}Z$")
days = "(MO|TU|WE|TH|FR|SA|SU)"
rrule_re = re.compile(r"^FREQ=WEEKLY(;WKST=MO)?;BYDAY=%s(,%s)*;UNTIL=\d{8}T\d{6}Z$" % (days, days))
stack, events, event, cal_props = [], 0, None, {}
for n, l in enumerate(lines, 1):
    m = name_re.match(l)
    if not m:
        err("content line %d is not NAME[;PARAM=V]:VALUE: %r" % (n, l[:60]))
        continue
    name, params, value = m.group(1).upper(), m.group(2), m.group(3)
    if name == "BEGIN":
        stack.append(value)
        if value == "VEVENT":
            if stack != ["VCALENDAR", "VEVENT"]:
                err("VEVENT not directly in VCALENDAR")
            event = {}
        continue
    if name == "END":
        if not stack or stack[-1] != value:
            err("line %d: END:%s does not close %s" % (n, value, stack[-1] if stack else "anything"))
            continue
        stack.pop()
        if value == "VEVENT":
            events += 1
            for p in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "STATUS", "SEQUENCE"):
                if p not in event:
                    err("a VEVENT lacks %s" % p)
                elif p not in ("EXDATE",) and len(event[p]) != 1:
                    err("a VEVENT has %s twice" % p)
            for params_, v in event.get("DTSTART", []) + event.get("DTEND", []) + event.get("EXDATE", []):
                if params_ != ";TZID=Europe/Oslo" or not local_re.match(v):
                    err("date-time %r%r is not TZID=Europe/Oslo local time" % (params_, v))
            for params_, v in event.get("DTSTAMP", []):
                if params_ or not utc_re.match(v):
                    err("DTSTAMP %r is not UTC" % v)
            for params_, v in event.get("RRULE", []):
                if not rrule_re.match(v):
                    err("RRULE %r is not FREQ=WEEKLY;BYDAY=..;UNTIL=..Z" % v)
            if "EXDATE" in event and "RRULE" not in event:
                err("EXDATE without RRULE")
            for params_, v in event.get("STATUS", []):
                if v not in ("CONFIRMED", "TENTATIVE", "CANCELLED"):
                    err("STATUS %r" % v)
            for params_, v in event.get("SEQUENCE", []):
                if not v.isdigit():
                    err("SEQUENCE %r" % v)
            for p in ("SUMMARY", "LOCATION", "DESCRIPTION"):
                for params_, v in event.get(p, []):
                    # TEXT: ; , and line breaks escaped, no bare backslash.
                    if re.search(r"(?<!\\)(\\\\)*[;,]", v) or "\n" in v or re.search(r"(?<!\\)(\\\\)*\\[^\\;,nN]", v):
                        err("%s %r is not escaped TEXT" % (p, v))
            event = None
        continue
    if not stack:
        err("line %d outside VCALENDAR" % n)
    elif stack == ["VCALENDAR"]:
        cal_props[name] = value
    elif event is not None:
        event.setdefault(name, []).append((params, value))
if stack:
    err("not closed: %s" % stack)
if lines[:1] != ["BEGIN:VCALENDAR"] or lines[-1:] != ["END:VCALENDAR"]:
    err("the file is not one VCALENDAR")
if cal_props.get("VERSION") != "2.0" or not cal_props.get("PRODID"):
    err("VCALENDAR lacks VERSION:2.0 or PRODID")
tz = [l for l in lines if l in ("BEGIN:VTIMEZONE", "TZID:Europe/Oslo", "BEGIN:STANDARD", "BEGIN:DAYLIGHT",
                                "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU")]
if len(set(tz)) != 6:
    err("no VTIMEZONE for Europe/Oslo with STANDARD and DAYLIGHT and the EU rules")
if events != want_events:
    err("%d VEVENTs, expected %d" % (events, want_events))
if errors:
    print("; ".join(errors[:8]))
    sys.exit(1)
EOF

run booking export --format ics --data "$D"
cp "$T/out" "$T/b.ics"
if [ $rc -eq 0 ] && [ ! -s "$T/err" ]; then
	check ics_booking_structure python3 "$T/icscheck.py" "$T/b.ics" 4
else
	fail ics_booking_structure "exit $rc: $(cat "$T/err")"
fi
# A long line is folded, and not inside 'ø' or 'å'.
if [ "$(grep -c '^ ' "$T/b.ics")" -ge 1 ]; then
	pass ics_long_summary_folded
else
	fail ics_long_summary_folded "no continuation line in $(grep -a SUMMARY "$T/b.ics" | head -2)"
fi

run activity export --format ics --data "$D"
cp "$T/out" "$T/a.ics"
if [ $rc -eq 0 ]; then
	check ics_activity_structure python3 "$T/icscheck.py" "$T/a.ics" 2
else
	fail ics_activity_structure "exit $rc: $(cat "$T/err")"
fi

run booking export --format ics --room r2 --data "$D"
cp "$T/out" "$T/r2.ics"
if [ $rc -eq 0 ] && python3 "$T/icscheck.py" "$T/r2.ics" 2 >"$T/why" &&
	grep -q "^UID:fjell:b2@knutepunkt" "$T/r2.ics" && grep -q "^UID:fjell:b3@knutepunkt" "$T/r2.ics" &&
	grep -q "^X-WR-CALNAME:Åssiden møterom\\\\, Knutepunkt Fjell" "$T/r2.ics"; then
	pass ics_per_room
else
	fail ics_per_room "exit $rc: $(cat "$T/why" "$T/err") $(grep -a 'UID\|CALNAME' "$T/r2.ics")"
fi

# ---- iCalendar: read by a parser ----
cat >"$T/icsparse.py" <<'EOF'
# Read the booking feed with python3-icalendar and check what a calendar
# would show: the wall-clock times across summer time, the cancelled
# date, the first date of a tue,thu series, the statuses and the texts.
import sys, datetime
from zoneinfo import ZoneInfo
import icalendar
from dateutil.rrule import rrulestr

oslo = ZoneInfo("Europe/Oslo")
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
purpose = sys.argv[2]
ev = {str(e["UID"]): e for e in cal.walk("VEVENT")}
problems = []
def want(cond, msg):
    if not cond:
        problems.append(msg)

want(set(ev) == {"fjell:b%d@knutepunkt" % i for i in (1, 2, 3, 4)}, "UIDs %s" % sorted(ev))

def occurrences(e):
    """Expand DTSTART + RRULE - EXDATE in Europe/Oslo wall-clock time."""
    start = e.decoded("DTSTART")
    start = start.replace(tzinfo=None).replace(tzinfo=oslo)
    rule = e.get("RRULE")
    if rule is None:
        return [start]
    text = rule.to_ical().decode()
    # dateutil keeps the wall-clock time of an aware DTSTART, as RFC 5545
    # does with TZID.
    dates = list(rrulestr(text, dtstart=start))
    ex = e.get("EXDATE")
    exl = []
    for x in (ex if isinstance(ex, list) else [ex] if ex is not None else []):
        exl += [d.dt.replace(tzinfo=None) for d in x.dts]
    return [d for d in dates if d.replace(tzinfo=None) not in exl]

b1 = ev["fjell:b1@knutepunkt"]
want(str(b1["SUMMARY"]) == "Røde Kors: " + purpose, "b1 SUMMARY %r" % str(b1["SUMMARY"]))
want(str(b1["LOCATION"]) == "Fjell bydelshus, storsalen", "b1 LOCATION %r" % str(b1["LOCATION"]))
want(str(b1["STATUS"]) == "CONFIRMED" and int(b1["SEQUENCE"]) == 0, "b1 STATUS/SEQUENCE")
want(str(b1["DTSTART"].params.get("TZID")) == "Europe/Oslo", "b1 DTSTART TZID")
occ = occurrences(b1)
got = [(d.strftime("%Y-%m-%d %H:%M"), d.astimezone(datetime.timezone.utc).strftime("%H:%MZ")) for d in occ]
# 17:00 local throughout: 16:00 UTC in winter time, 15:00 UTC in summer
# time after 2027-03-28; 2027-03-30 cancelled.
want(got == [("2027-03-16 17:00", "16:00Z"), ("2027-03-23 17:00", "16:00Z"),
             ("2027-04-06 17:00", "15:00Z")], "b1 occurrences %s" % got)
want((b1.decoded("DTEND") - b1.decoded("DTSTART")) == datetime.timedelta(hours=2), "b1 length")

b2 = ev["fjell:b2@knutepunkt"]
want(str(b2["STATUS"]) == "TENTATIVE" and "RRULE" not in b2, "b2 pending -> TENTATIVE")
want(str(b2["LOCATION"]) == "Åssiden møterom", "b2 LOCATION %r" % str(b2["LOCATION"]))
want(str(ev["fjell:b3@knutepunkt"]["STATUS"]) == "CANCELLED", "b3 CANCELLED")

b4 = ev["fjell:b4@knutepunkt"]
occ = [d.strftime("%a %Y-%m-%d %H:%M") for d in occurrences(b4)]
want(occ == ["Tue 2027-03-23 10:00", "Thu 2027-03-25 10:00", "Tue 2027-03-30 10:00",
             "Thu 2027-04-01 10:00"], "b4 occurrences %s" % occ)

# The VTIMEZONE's rules give Oslo's real changes of offset.
tz = cal.walk("VTIMEZONE")[0]
for sub, month, offset in (("DAYLIGHT", 3, 2), ("STANDARD", 10, 1)):
    comp = tz.walk(sub)[0]
    rule = rrulestr(comp["RRULE"].to_ical().decode(), dtstart=comp.decoded("DTSTART").replace(tzinfo=None))
    for year in (2026, 2027, 2028):
        change = rule.after(datetime.datetime(year, 1, 1))
        before = change - datetime.timedelta(hours=3)
        after = change + datetime.timedelta(hours=3)
        want(change.month == month, "%s %d in month %d" % (sub, year, change.month))
        want(before.replace(tzinfo=oslo).utcoffset() != after.replace(tzinfo=oslo).utcoffset()
             and after.replace(tzinfo=oslo).utcoffset() == datetime.timedelta(hours=offset),
             "%s %d at %s is not Oslo's change" % (sub, year, change))
if problems:
    print("; ".join(problems))
    sys.exit(1)
EOF
if [ -n "$ICALPY" ]; then
	check ics_parsed_dst_exdate_status "$ICALPY" "$T/icsparse.py" "$T/b.ics" "$PURPOSE"
else
	fail ics_parsed_dst_exdate_status "python3-icalendar is not installed: run 'sh scripts/install-deps.sh' as root"
fi

# The literal lines of the series, as RFC 5545 wants them.
if grep -q '^DTSTART;TZID=Europe/Oslo:20270316T170000' "$T/b.ics" &&
	grep -q '^RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=TU;UNTIL=20270406T215959Z' "$T/b.ics" &&
	grep -q '^EXDATE;TZID=Europe/Oslo:20270330T170000' "$T/b.ics" &&
	grep -q '^DTSTART;TZID=Europe/Oslo:20270323T100000' "$T/b.ics" &&
	grep -q '^RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=TU,TH;UNTIL=20270401T215959Z' "$T/b.ics"; then
	pass ics_rrule_until_exdate_lines
else
	fail ics_rrule_until_exdate_lines "$(grep -a 'DTSTART;\|RRULE:FREQ=W\|EXDATE' "$T/b.ics")"
fi

if grep -q '^RRULE:FREQ=WEEKLY;WKST=MO;BYDAY=TU,TH;UNTIL=20270408T215959Z' "$T/a.ics" &&
	grep -q '^SUMMARY:Leksehjelp 5.-7. trinn (Røde Kors)' "$T/a.ics" &&
	grep -q '^LOCATION:Åssiden møterom' "$T/a.ics" &&
	grep -q '^DESCRIPTION:Ta med "ordbok"\\nog godt humør' "$T/a.ics" &&
	grep -q '^CATEGORIES:språkkafé' "$T/a.ics"; then
	pass ics_activities
else
	fail ics_activities "$(grep -a 'RRULE:FREQ=W\|SUMMARY\|DESCRIPTION\|LOCATION' "$T/a.ics")"
fi
if [ -n "$ICALPY" ] && "$ICALPY" -c '
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
ev = {str(e["UID"]): e for e in cal.walk("VEVENT")}
assert str(ev["fjell:a2@knutepunkt"]["DESCRIPTION"]) == "Ta med \"ordbok\"\nog godt humør"
assert str(ev["fjell:a1@knutepunkt"]["STATUS"]) == "CONFIRMED"
' "$T/a.ics" 2>"$T/why"; then
	pass ics_activity_text_parsed
else
	fail ics_activity_text_parsed "$(tail -3 "$T/why")"
fi

# --tz changes what the CSV shows, never the iCalendar feed's Oslo times.
run booking export --format ics --tz America/New_York --data "$D"
if [ $rc -eq 0 ] && grep -q '^DTSTART;TZID=Europe/Oslo:20270316T170000' "$T/out"; then
	pass ics_always_oslo
else
	fail ics_always_oslo "exit $rc: $(grep -a DTSTART "$T/out" | head -2) $(cat "$T/err")"
fi

# ---- CSV exports ----
cat >"$T/csvread.py" <<'EOF'
# Print what the named row's named columns hold (rows by id), after
# checking the file is RFC 4180 with CRLF line ends and a header row.
import csv, io, sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")
assert text.endswith("\r\n"), "no CRLF at the end"
rows = list(csv.DictReader(io.StringIO(text, newline="")))
if sys.argv[2] == "header":
    print(",".join(csv.reader(io.StringIO(text, newline="")).__next__()))
else:
    row = [r for r in rows if r["id"] == sys.argv[2]][0]
    print("|".join(row[c] for c in sys.argv[3:]))
EOF
csv_get() { python3 "$T/csvread.py" "$@" 2>&1; }

k booking export --format csv >"$T/b.csv" 2>"$T/err"
if [ "$(csv_get "$T/b.csv" header)" = "id,room,room_name,org,contact,purpose,status,start,end,weekly,days,until,cancelled" ] &&
	[ "$(csv_get "$T/b.csv" fjell:b1 room_name org purpose start end weekly days until cancelled)" = "Fjell bydelshus, storsalen|Røde Kors|$PURPOSE|2027-03-16 17:00|2027-03-16 19:00|yes|tue|2027-04-06|2027-03-30 17:00" ] &&
	[ "$(csv_get "$T/b.csv" fjell:b2 status)" = "pending" ]; then
	pass csv_bookings
else
	fail csv_bookings "$(cat "$T/b.csv" "$T/err")"
fi

k volunteer export --format csv >"$T/v.csv" 2>"$T/err"
if [ "$(csv_get "$T/v.csv" header)" = "id,org,skills,languages,availability,consent,consent_date" ] &&
	! grep -q "Kari\|912 34\|example.no\|1985\|leksehjelper" "$T/v.csv" &&
	[ "$(csv_get "$T/v.csv" fjell:v1 org skills consent)" = "Røde Kors|leksehjelp, matte|yes" ]; then
	pass csv_volunteers_without_personal_fields
else
	fail csv_volunteers_without_personal_fields "$(cat "$T/v.csv" "$T/err")"
fi

k volunteer export --format csv --include-personal >"$T/vp.csv" 2>"$T/err"
if [ "$(csv_get "$T/vp.csv" fjell:v1 name phone email birth_year police_role police_shown consent consent_date)" = "Kari Nordmann|+47 912 34 567|kari@example.no|1985|leksehjelper|2026-08-15|yes|2026-09-01" ] &&
	[ "$(csv_get "$T/vp.csv" fjell:v2 name consent)" = "Solveig Åsheim|" ] &&
	[ "$(csv_get "$T/vp.csv" fjell:v3 consent consent_date)" = "no|2026-10-01" ]; then
	pass csv_volunteers_with_personal_fields
else
	fail csv_volunteers_with_personal_fields "$(cat "$T/vp.csv" "$T/err")"
fi

k activity export --format csv >"$T/a.csv" 2>"$T/err"
k room export --format csv >"$T/r.csv" 2>>"$T/err"
if [ "$(csv_get "$T/a.csv" fjell:a2 description)" = 'Ta med "ordbok"
og godt humør' ] &&
	[ "$(csv_get "$T/a.csv" fjell:a1 room room_name days police_required skills)" = "fjell:r2|Åssiden møterom|tue,thu|yes|matte, norsk" ] &&
	[ "$(csv_get "$T/r.csv" fjell:r1 closures facilities)" = "2027-12-24 to 2027-12-26: Julestengt; kirkekonsert|scene, kjøkken" ]; then
	pass csv_activities_and_rooms
else
	fail csv_activities_and_rooms "$(cat "$T/a.csv" "$T/r.csv" "$T/err")"
fi

# ---- bad export options ----
bad export_needs_format --data "$D" booking export
expect export_bad_format 2 "is not ics or csv" --data "$D" booking export --format pdf
expect export_volunteer_csv_only 2 "csv" --data "$D" volunteer export --format ics
expect export_no_such_room 4 "no room fjell:r9" --data "$D" booking export --format ics --room r9
expect export_hub_only_at_central 2 "--hub" --data "$D" booking export --format csv --hub fjell
expect export_no_json 2 "drop --json" --data "$D" room export --format csv --json

# ---- central: no personal fields ----
C="$T/central"
"$K" init --data "$C" --central --name "Drammen kommune" >/dev/null
"$K" --data "$C" volunteer export --format csv --include-personal >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && [ ! -s "$T/out" ] && grep -q "^knute: personal fields are exported only at the volunteer's own hub" "$T/err"; then
	pass central_refuses_personal_fields
else
	fail central_refuses_personal_fields "exit $rc: $(cat "$T/out" "$T/err")"
fi
"$K" --data "$C" booking export --format ics >"$T/c.ics" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && python3 "$T/icscheck.py" "$T/c.ics" 0 >"$T/why"; then
	pass central_booking_feed
else
	fail central_booking_feed "exit $rc: $(cat "$T/why" "$T/err")"
fi
"$K" --data "$C" import-csv --kind room "$T/r.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^knute: import-csv runs at a hub" "$T/err"; then
	pass central_refuses_import_csv
else
	fail central_refuses_import_csv "exit $rc: $(cat "$T/err")"
fi

# ---- round trip into a fresh hub with the same id ----
# records DIR KIND: the hub's records of KIND as sorted JSON, one per line.
records() {
	"$K" --data "$1" "$2" list --json 2>/dev/null | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(json.dumps(r, sort_keys=True, ensure_ascii=False))'
}
F2="$T/fjell2"
"$K" init --data "$F2" --hub fjell --name "Knutepunkt Fjell (ny)" >/dev/null
ok=1
for kind in room activity volunteer; do
	case $kind in
	room) f="$T/r.csv" ;;
	activity) f="$T/a.csv" ;;
	volunteer) f="$T/vp.csv" ;;
	esac
	"$K" --data "$F2" import-csv --kind $kind "$f" >"$T/out" 2>"$T/err" || ok=0
	records "$D" $kind >"$T/want"
	records "$F2" $kind >"$T/got"
	if ! cmp -s "$T/want" "$T/got"; then
		ok=0
		echo "$kind differs: $(diff "$T/want" "$T/got" | head -6)" >>"$T/err"
	fi
done
if [ $ok -eq 1 ]; then
	pass csv_round_trip_same_hub
else
	fail csv_round_trip_same_hub "$(cat "$T/out" "$T/err")"
fi
# The imported activity holds its room: the same slot is refused there too.
"$K" --data "$F2" booking add --room r2 --from "2027-03-18 15:30" --to "2027-03-18 16:00" --org "Blå Kors" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "clashes with activity fjell:a1" "$T/err"; then
	pass csv_imported_activity_holds_room
else
	fail csv_imported_activity_holds_room "exit $rc: $(cat "$T/err")"
fi

# Importing the same file again replaces the records with themselves.
"$K" --data "$F2" import-csv --kind activity "$T/a.csv" >"$T/out" 2>"$T/err"
rc=$?
records "$F2" activity >"$T/got"
records "$D" activity >"$T/want"
if [ $rc -eq 0 ] && grep -q "^imported 2 activities (0 new, 2 replaced)" "$T/out" && cmp -s "$T/want" "$T/got"; then
	pass csv_reimport_replaces
else
	fail csv_reimport_replaces "exit $rc: $(cat "$T/out" "$T/err")"
fi

# A spreadsheet edit: a volunteer file without the personal columns
# changes the skills and keeps the names.
printf 'id,skills\r\nfjell:v2,"leksehjelp, strikking"\r\n' >"$T/edit.csv"
"$K" --data "$F2" import-csv --kind volunteer "$T/edit.csv" >"$T/out" 2>"$T/err"
rc=$?
"$K" --data "$F2" volunteer show v2 --json >"$T/v2.json" 2>>"$T/err"
if [ $rc -eq 0 ] && jcheck "$T/v2.json" 'v["name"] == "Solveig Åsheim" and v["skills"] == ["leksehjelp", "strikking"] and v["languages"] == ["norsk", "polsk"]'; then
	pass csv_replace_keeps_absent_columns
else
	fail csv_replace_keeps_absent_columns "exit $rc: $(cat "$T/err" "$T/v2.json")"
fi

# ---- round trip into another hub (Åssiden): new ids, rooms by name ----
A="$T/assiden"
"$K" init --data "$A" --hub assiden --name "Knutepunkt Åssiden" >/dev/null
"$K" --data "$A" import-csv --kind activity "$T/a.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "the id fjell:a1 is of hub fjell, not of this hub (assiden)" "$T/err" &&
	[ "$(hub_seq "$A")" = 0 ]; then
	pass csv_other_hub_ids_refused
else
	fail csv_other_hub_ids_refused "exit $rc: $(cat "$T/err")"
fi
"$K" --data "$A" import-csv --kind room --new-ids "$T/r.csv" >/dev/null 2>"$T/err" &&
	"$K" --data "$A" import-csv --kind activity --new-ids "$T/a.csv" >"$T/out" 2>>"$T/err"
rc=$?
"$K" --data "$A" activity show a1 --json >"$T/a1.json" 2>>"$T/err"
if [ $rc -eq 0 ] && jcheck "$T/a1.json" 'v["room"] == "assiden:r2" and v["title"] == "Leksehjelp 5.-7. trinn" and v["days"] == "tue,thu"'; then
	pass csv_round_trip_other_hub_rooms_by_name
else
	fail csv_round_trip_other_hub_rooms_by_name "exit $rc: $(cat "$T/out" "$T/err" "$T/a1.json")"
fi

# ---- the way spreadsheets save: ';', a byte-order mark, CRLF, Norwegian
# dates, header words in other case, blank rows at the end ----
printf '\357\273\277Title;Organiser;Category;Target;Room;Start;End;Until;Police required\r\n' >"$T/excel.csv"
printf 'Fotballtrening;Blå Kors;Trening;ungdom;Åssiden møterom;15.03.2027 18:00;15.03.2027 19:30;5.4.2027;nei\r\n' >>"$T/excel.csv"
printf '"Strikkekafé; med kaffe";Kirkens Bymisjon;møteplass;eldre;;2027-03-19 11:00;2027-03-19 13:00;;\r\n' >>"$T/excel.csv"
printf ';;;;;;;;\r\n;;;;;;;;\r\n' >>"$T/excel.csv"
"$K" --data "$A" import-csv --kind activity --json "$T/excel.csv" >"$T/out" 2>"$T/err"
rc=$?
"$K" --data "$A" activity show a3 --json >"$T/a3.json" 2>>"$T/err"
if [ $rc -eq 0 ] && jcheck "$T/out" 'v["imported"] == 2 and v["created"] == 2 and v["ids"] == ["assiden:a3", "assiden:a4"]' &&
	jcheck "$T/a3.json" 'v["weekly"] is True and v["days"] == "mon" and v["until"] == "2027-04-05" and v["category"] == "trening" and v["police_required"] is False and v["room"] == "assiden:r2"'; then
	pass csv_spreadsheet_forms
else
	fail csv_spreadsheet_forms "exit $rc: $(cat "$T/out" "$T/err")"
fi

# ---- bad rows: listed by row number, nothing written ----
cat >"$T/bad.csv" <<'EOF'
title,organiser,category,target,room,start,end,until
Leksehjelp 8. trinn,Røde Kors,leksehjelp,ungdom,Åssiden møterom,2027-04-13 17:00,2027-04-13 19:00,2027-05-04
Sjakk,Frivilligsentralen,sjakk,barn,,2027-04-14 17:00,2027-04-14 19:00,
Turgruppe,Røde Kors,trening,eldre,,2027-04-15 12:00,2027-04-15 11:00,
Språkkafé,Frivilligsentralen,språkkafé,voksne,Konnerud skole,2027-04-16 17:00,2027-04-16 19:00,
EOF
before=$(hub_seq "$A")
records "$A" activity >"$T/before"
"$K" --data "$A" import-csv --kind activity "$T/bad.csv" >"$T/out" 2>"$T/err"
rc=$?
records "$A" activity >"$T/after"
if [ $rc -eq 2 ] && [ ! -s "$T/out" ] &&
	grep -q "^knute: import-csv refused, nothing was written: 3 of 4 rows have problems" "$T/err" &&
	grep -q "^  row 3: column C (category): 'sjakk' is not one of leksehjelp" "$T/err" &&
	grep -q "^  row 4: the end (2027-04-15 11:00) must be after the start (2027-04-15 12:00)" "$T/err" &&
	grep -q "^  row 5: no room named 'Konnerud skole' at this hub" "$T/err" &&
	! grep -q "row 2" "$T/err" &&
	[ "$(hub_seq "$A")" = "$before" ] && cmp -s "$T/before" "$T/after"; then
	pass csv_bad_rows_refused_nothing_written
else
	fail csv_bad_rows_refused_nothing_written "exit $rc, seq $before -> $(hub_seq "$A"): $(cat "$T/err")"
fi

# Two rows of one file that want the same slot: the clash names the row.
cat >"$T/clash.csv" <<'EOF'
title,organiser,category,target,room_name,start,end
Korøvelse,Kirkens Bymisjon,kultur,voksne,"Fjell bydelshus, storsalen",2027-04-20 18:00,2027-04-20 20:00
Bandøving,Blå Kors,kultur,ungdom,"Fjell bydelshus, storsalen",2027-04-20 19:00,2027-04-20 21:00
EOF
before=$(hub_seq "$A")
"$K" --data "$A" import-csv --kind activity "$T/clash.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "^  row 3: 2027-04-20 19:00-21:00 clashes with the activity on row 2 of the file (Kirkens Bymisjon, 2027-04-20 18:00-20:00)" "$T/err" &&
	[ "$(hub_seq "$A")" = "$before" ]; then
	pass csv_clash_between_rows
else
	fail csv_clash_between_rows "exit $rc: $(cat "$T/err")"
fi

# The clash rule against the store: the room's closure and its bookings.
printf 'title,organiser,category,target,room,start,end\nJulekonsert,Kirkens Bymisjon,kultur,alle,r1,2027-12-25 18:00,2027-12-25 20:00\n' >"$T/closed.csv"
before=$(hub_seq "$D")
"$K" --data "$D" import-csv --kind activity "$T/closed.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "^  row 2: 2027-12-25 18:00-20:00 falls on a closure of the room (Julestengt; kirkekonsert)" "$T/err" &&
	[ "$(hub_seq "$D")" = "$before" ]; then
	pass csv_closure_refused
else
	fail csv_closure_refused "exit $rc: $(cat "$T/err")"
fi

# A file saved as Latin-1 (Excel's old 'CSV'): the row and the column.
printf 'name,capacity\nGrupperom \370st,12\n' >"$T/latin1.csv"
before=$(hub_seq "$A")
"$K" --data "$A" import-csv --kind room "$T/latin1.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "row 2: column A (name): byte 11 of the cell is not valid UTF-8 (0xf8)" "$T/err" &&
	[ "$(hub_seq "$A")" = "$before" ]; then
	pass csv_not_utf8_refused
else
	fail csv_not_utf8_refused "exit $rc: $(cat "$T/err")"
fi

printf 'name;capasity\nGrupperom;12\n' >"$T/typo.csv"
"$K" --data "$A" import-csv --kind room "$T/typo.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "the header row of .* has a problem" "$T/err" &&
	grep -q "row 1: column B: 'capasity' is not a room column" "$T/err"; then
	pass csv_unknown_column_refused
else
	fail csv_unknown_column_refused "exit $rc: $(cat "$T/err")"
fi

# A police certificate cleared while an activity that requires one has
# the volunteer: refused as 'activity assign' would refuse.
printf 'id,police_role,police_shown\nfjell:v1,,\n' >"$T/nopolice.csv"
before=$(hub_seq "$F2")
"$K" --data "$F2" activity assign a1 --volunteer v1 >/dev/null 2>&1
"$K" --data "$F2" import-csv --kind volunteer "$T/nopolice.csv" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "row 2: volunteer fjell:v1 is assigned to activity fjell:a1" "$T/err"; then
	pass csv_police_rule_on_replace
else
	fail csv_police_rule_on_replace "exit $rc: $(cat "$T/err")"
fi

expect csv_missing_file 4 "cannot read" --data "$A" import-csv --kind room "$T/nosuch.csv"
expect csv_needs_kind 2 "--kind" --data "$A" import-csv "$T/r.csv"
expect csv_no_booking_kind 2 "cannot be imported from CSV" --data "$A" import-csv --kind booking "$T/b.csv"
