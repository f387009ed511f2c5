#!/bin/sh
# The demo: Drammen kommune's central and three district hubs (Fjell,
# Åssiden, Konnerud) with a season of realistic data, syncing over ZeroMQ
# on loopback, each with its web pages. First the views a coordinator uses
# at Fjell on the command line, then central's views; then it prints the
# dashboard's and the hub pages' addresses and keeps running until Ctrl-C
# (when not run from a terminal: for DEMO_SECONDS seconds, default 0).
# Dates are in the current week and after, so "this week" has something to
# show. Runs in a fresh directory (DEMO_DIR, default a new temporary one)
# and leaves the stores for you to explore with 'knute --data DIR ...'.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K="$ROOT/bin/knute"
DIR=${DEMO_DIR:-$(mktemp -d /tmp/knute-demo.XXXXXX)/fjell}
export KNUTE_DATA="$DIR"

# day N [HH:MM]: the date N days after this week's Monday (Europe/Oslo).
MONDAY=$(TZ=Europe/Oslo date -d "$(TZ=Europe/Oslo date +%F) -$(($(TZ=Europe/Oslo date +%u) - 1)) days" +%F)
day() {
	_d=$(date -d "$MONDAY +$1 days" +%F)
	echo "$_d${2:+ $2}"
}
# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ knute %s\n' "$*"; "$K" "$@"; }

say "A new hub: Knutepunkt Fjell"
run init --data "$DIR" --hub fjell --name "Knutepunkt Fjell"

say "Rooms, with opening hours"
SAL=$("$K" room add --name "Storsalen" --capacity 80 --facilities "scene, projektor, kjøkken" --open "mon-fri 08:00-22:00, sat-sun 10:00-18:00")
MOTE=$("$K" room add --name "Møterom 1" --capacity 12 --facilities "skjerm" --open "mon-fri 08:00-21:00")
KJ=$("$K" room add --name "Kjøkkenet" --capacity 20 --open "mon-sat 09:00-21:00")
"$K" room close "$SAL" --from "$(day 31)" --to "$(day 33)" --reason "Stengt for vedlikehold" >/dev/null
run room list

say "Bookings for the organisations"
"$K" booking add --room "$SAL" --from "$(day 1 17:00)" --to "$(day 1 19:00)" --org "Røde Kors" --contact "Kari Nordmann" --purpose "Førstehjelpskurs" >/dev/null
"$K" booking add --room "$MOTE" --from "$(day 2 18:00)" --to "$(day 2 20:00)" --org "Frivilligsentralen" --purpose "Styremøte" --weekly --until "$(day 205)" >/dev/null
"$K" booking add --room "$KJ" --from "$(day 3 11:00)" --to "$(day 3 14:00)" --org "Kirkens Bymisjon" --purpose "Matutdeling" --weekly --days tue,thu --until "$(day 128)" >/dev/null
"$K" booking add --room "$SAL" --from "$(day 5 12:00)" --to "$(day 5 16:00)" --org "Fjell Idrettslag" --purpose "Juleverksted" --pending >/dev/null
run booking list

say "A booking that clashes is refused, naming the clash (exit code 3)"
run booking add --room "$SAL" --from "$(day 1 18:00)" --to "$(day 1 20:00)" --org "Blå Kors" || echo "(exit code $?)"

say "Back to back is fine"
run booking add --room "$SAL" --from "$(day 1 19:00)" --to "$(day 1 21:00)" --org "Blå Kors"

say "Activities on weekly schedules"
LEKS=$("$K" activity add --title "Leksehjelp" --organiser "Røde Kors" --category leksehjelp --target barn --from "$(day 1 15:00)" --to "$(day 1 17:00)" --weekly --days tue,thu --until "$(day 206)" --room "$SAL" --volunteers-needed 3 --skills matte,norsk --police-required --skip-clashes)
SPRAK=$("$K" activity add --title "Språkkafé" --organiser "Frivilligsentralen" --category "språkkafé" --target voksne --from "$(day 2 12:00)" --to "$(day 2 14:00)" --weekly --until "$(day 205)" --room "$KJ" --volunteers-needed 2 --skills norsk)
"$K" activity add --title "Ungdomsklubben" --organiser "Fjell fritidsklubb" --category ungdomsklubb --target ungdom --from "$(day 4 18:00)" --to "$(day 4 21:00)" --weekly --until "$(day 200)" --volunteers-needed 2 >/dev/null
run activity list

say "Volunteers"
ANNE=$("$K" volunteer add --name "Anne Haugen" --phone "+47 912 34 567" --email "anne.haugen@example.no" --birth-year 1961 --org "Røde Kors" --skills "matte, norsk" --languages "norsk, engelsk" --available "tue 14:00-18:00, thu 14:00-18:00" --police-role "leksehjelp" --police-shown 2026-09-01 --consent)
ALI=$("$K" volunteer add --name "Ali Hassan" --phone "+47 934 56 789" --birth-year 1990 --org "Frivilligsentralen" --skills "norsk, arabisk" --languages "arabisk, norsk, engelsk" --available "wed 11:00-15:00" --no-consent)
SIGRID=$("$K" volunteer add --name "Sigrid Åsheim" --birth-year 2003 --skills "matte" --languages "norsk" --available "tue 15:00-17:00")
run volunteer list --skill norsk --available "tue 15:00-17:00"

say "Assignments: a police certificate is required for homework help"
run activity assign "$LEKS" --volunteer "$ANNE"
run activity assign "$LEKS" --volunteer "$SIGRID" || echo "(exit code $?)"
run activity assign "$SPRAK" --volunteer "$ALI"
"$K" activity attend "$LEKS" --volunteer "$ANNE" --date "$(day 1)" --status present >/dev/null
"$K" activity attend "$LEKS" --volunteer "$ANNE" --date "$(day 3)" --status no-show >/dev/null
run volunteer show "$ANNE"

say "The hub's status"
run status

say "Drammen kommune's central, and hubs at Åssiden and Konnerud"
TOP=$(dirname "$DIR")
CDIR="$TOP/central"
ASS="$TOP/assiden"
KON="$TOP/konnerud"
EP="tcp://127.0.0.1:$(free_port)"
PIDS=
stop_all() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	PIDS=
}
trap 'stop_all' EXIT
trap 'stop_all; printf "\nStopped central and the hubs.\n"; exit 0' INT TERM
run init --data "$CDIR" --central --name "Drammen kommune"

"$K" init --data "$ASS" --hub assiden --name "Knutepunkt Åssiden" >/dev/null
STUA=$("$K" --data "$ASS" room add --name "Storstua" --capacity 50 --facilities "kjøkken, piano" --open "mon-fri 09:00-22:00, sat 10:00-16:00")
VERK=$("$K" --data "$ASS" room add --name "Verkstedet" --capacity 15 --open "mon-fri 12:00-21:00")
"$K" --data "$ASS" activity add --title "Språkkafé" --organiser "Røde Kors" --category "språkkafé" --target voksne --from "$(day 0 18:00)" --to "$(day 0 20:00)" --weekly --until "$(day 203)" --room "$STUA" --volunteers-needed 3 --skills norsk >/dev/null
"$K" --data "$ASS" activity add --title "Leksehjelp" --organiser "Frivilligsentralen" --category leksehjelp --target barn --from "$(day 2 15:00)" --to "$(day 2 17:00)" --weekly --until "$(day 205)" --room "$VERK" --volunteers-needed 2 --skills matte --police-required >/dev/null
"$K" --data "$ASS" activity add --title "Seniortrim" --organiser "Åssiden IF" --category trening --target eldre --from "$(day 3 10:00)" --to "$(day 3 11:00)" --weekly --until "$(day 206)" --room "$STUA" >/dev/null
"$K" --data "$ASS" booking add --room "$STUA" --from "$(day 4 17:00)" --to "$(day 4 19:00)" --org "Kirkens Bymisjon" --purpose "Frivilligmøte" >/dev/null
"$K" --data "$ASS" booking add --room "$VERK" --from "$(day 1 18:00)" --to "$(day 1 20:00)" --org "Blå Kors" --purpose "Sykkelverksted" --weekly --until "$(day 60)" >/dev/null
"$K" --data "$ASS" volunteer add --name "Ingrid Solberg" --birth-year 1958 --org "Røde Kors" --skills "norsk" --languages "norsk, tysk" --available "mon 17:00-21:00" --consent >/dev/null
"$K" --data "$ASS" volunteer add --name "Yusuf Ahmed" --org "Frivilligsentralen" --skills "matte, norsk" --languages "somali, norsk, engelsk" --available "wed 14:00-18:00" --no-consent >/dev/null

"$K" init --data "$KON" --hub konnerud --name "Knutepunkt Konnerud" >/dev/null
GRENDE=$("$K" --data "$KON" room add --name "Konnerud grendehus" --capacity 60 --open "mon-sun 09:00-22:00")
"$K" --data "$KON" activity add --title "Møteplass for eldre" --organiser "Kirkens Bymisjon" --category "møteplass" --target eldre --from "$(day 3 11:00)" --to "$(day 3 13:00)" --weekly --until "$(day 206)" --room "$GRENDE" --volunteers-needed 1 >/dev/null
"$K" --data "$KON" activity add --title "Ungdomsklubb" --organiser "Konnerud IL" --category ungdomsklubb --target ungdom --from "$(day 4 18:00)" --to "$(day 4 21:00)" --weekly --until "$(day 200)" --room "$GRENDE" --volunteers-needed 2 >/dev/null
"$K" --data "$KON" booking add --room "$GRENDE" --from "$(day 5 12:00)" --to "$(day 5 16:00)" --org "Blå Kors" --purpose "Julemarked" >/dev/null

say "CurveZMQ: central knows each hub's key, each hub trusts central's"
CKEY=$("$K" --data "$CDIR" keys show)
for HDIR in "$DIR" "$ASS" "$KON"; do
	HUB=$("$K" --data "$HDIR" status --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["hub"])')
	run --data "$HDIR" keys central "$CKEY"
	run --data "$CDIR" keys add "$HUB" "$("$K" --data "$HDIR" keys show)"
done

CHTTP=$(free_port)
printf '$ knute-central --data %s --listen %s --curve --http 127.0.0.1:%s &\n' "$CDIR" "$EP" "$CHTTP"
"$ROOT/bin/knute-central" --data "$CDIR" --listen "$EP" --curve --http "127.0.0.1:$CHTTP" 2>"$TOP/central.log" &
PIDS="$PIDS $!"
URLS=
for HDIR in "$DIR" "$ASS" "$KON"; do
	HP=$(free_port)
	printf '$ knute-hub --data %s --central %s --http 127.0.0.1:%s &\n' "$HDIR" "$EP" "$HP"
	"$ROOT/bin/knute-hub" --data "$HDIR" --central "$EP" --http "127.0.0.1:$HP" 2>"$HDIR.log" &
	PIDS="$PIDS $!"
	URLS="$URLS $(basename "$HDIR")=http://127.0.0.1:$HP/"
done
# Wait (at most 20 s) until every hub's changes are at central.
synced() {
	"$K" --data "$1" status --json | python3 -c 'import json, sys
v = json.load(sys.stdin)
sys.exit(0 if v["acked_seq"] == v["head_seq"] else 1)'
}
i=0
while [ $i -lt 100 ] && ! { synced "$DIR" && synced "$ASS" && synced "$KON"; }; do
	sleep 0.2
	i=$((i + 1))
done
sleep 1 # the mirrors follow once the hubs are caught up

say "At central: every hub, and the municipality per district"
run --data "$CDIR" hubs
run --data "$CDIR" overview

say "At Fjell: the other districts' rooms and activities, from the mirror"
run room list --all-hubs
run activity list --all-hubs

say "At Fjell: in sync with central?"
run status
run verify

say "In the browser"
printf 'Dashboard (Drammen kommune):  http://127.0.0.1:%s/\n' "$CHTTP"
for u in $URLS; do
	printf 'Hub page %-20s %s\n' "${u%%=*}:" "${u#*=}"
done
printf '\nThe stores are in %s (fjell, assiden, konnerud, central; daemon logs beside them).\n' "$TOP"
if [ -t 0 ] && [ -z "$DEMO_SECONDS" ]; then
	printf 'Central and the hubs keep running; press Ctrl-C to stop them.\n'
	while :; do sleep 3600; done
fi
sleep "${DEMO_SECONDS:-0}"
