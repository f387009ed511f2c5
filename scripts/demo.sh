#!/bin/sh
# The demo: a district hub at Fjell (Drammen) with a season of realistic
# data and the views a coordinator uses; then Drammen kommune's central,
# a second hub at Konnerud, and both hubs syncing to central over ZeroMQ on
# loopback. Runs in a fresh directory (DEMO_DIR, default a new temporary
# one), stops the daemons it started, and leaves the stores for you to
# explore with 'knute --data DIR ...'.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K="$ROOT/bin/knute"
DIR=${DEMO_DIR:-$(mktemp -d /tmp/knute-demo.XXXXXX)/fjell}
export KNUTE_DATA="$DIR"

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ knute %s\n' "$*"; "$K" "$@"; }

say "A new hub: Knutepunkt Fjell"
run init --data "$DIR" --hub fjell --name "Knutepunkt Fjell"

say "Rooms, with opening hours"
SAL=$("$K" room add --name "Storsalen" --capacity 80 --facilities "scene, projektor, kjøkken" --open "mon-fri 08:00-22:00, sat-sun 10:00-18:00")
MOTE=$("$K" room add --name "Møterom 1" --capacity 12 --facilities "skjerm" --open "mon-fri 08:00-21:00")
KJ=$("$K" room add --name "Kjøkkenet" --capacity 20 --open "mon-sat 09:00-21:00")
"$K" room close "$SAL" --from 2026-12-24 --to 2026-12-26 --reason "Julestengt" >/dev/null
run room list

say "Bookings for the organisations"
"$K" booking add --room "$SAL" --from "2026-12-01 17:00" --to "2026-12-01 19:00" --org "Røde Kors" --contact "Kari Nordmann" --purpose "Førstehjelpskurs" >/dev/null
"$K" booking add --room "$MOTE" --from "2026-12-02 18:00" --to "2026-12-02 20:00" --org "Frivilligsentralen" --purpose "Styremøte" --weekly --until 2027-06-16 >/dev/null
"$K" booking add --room "$KJ" --from "2026-12-03 11:00" --to "2026-12-03 14:00" --org "Kirkens Bymisjon" --purpose "Matutdeling" --weekly --days tue,thu --until 2027-03-31 >/dev/null
"$K" booking add --room "$SAL" --from "2026-12-05 12:00" --to "2026-12-05 16:00" --org "Fjell Idrettslag" --purpose "Juleverksted" --pending >/dev/null
run booking list

say "A booking that clashes is refused, naming the clash (exit code 3)"
run booking add --room "$SAL" --from "2026-12-01 18:00" --to "2026-12-01 20:00" --org "Blå Kors" || echo "(exit code $?)"

say "Back to back is fine"
run booking add --room "$SAL" --from "2026-12-01 19:00" --to "2026-12-01 21:00" --org "Blå Kors"

say "Activities on weekly schedules"
LEKS=$("$K" activity add --title "Leksehjelp" --organiser "Røde Kors" --category leksehjelp --target barn --from "2026-12-01 15:00" --to "2026-12-01 17:00" --weekly --days tue,thu --until 2027-06-17 --room "$SAL" --volunteers-needed 3 --skills matte,norsk --police-required --skip-clashes)
SPRAK=$("$K" activity add --title "Språkkafé" --organiser "Frivilligsentralen" --category "språkkafé" --target voksne --from "2026-12-02 12:00" --to "2026-12-02 14:00" --weekly --until 2027-06-16 --room "$KJ" --volunteers-needed 2 --skills norsk)
"$K" activity add --title "Ungdomsklubben" --organiser "Fjell fritidsklubb" --category ungdomsklubb --target ungdom --from "2026-12-04 18:00" --to "2026-12-04 21:00" --weekly --until 2027-06-11 --volunteers-needed 2 >/dev/null
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
"$K" activity attend "$LEKS" --volunteer "$ANNE" --date 2026-12-01 --status present >/dev/null
"$K" activity attend "$LEKS" --volunteer "$ANNE" --date 2026-12-03 --status no-show >/dev/null
run volunteer show "$ANNE"

say "The hub's status"
run status

say "Drammen kommune's central, and a second hub at Konnerud"
TOP=$(dirname "$DIR")
CDIR="$TOP/central"
KON="$TOP/konnerud"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EP="tcp://127.0.0.1:$PORT"
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT INT TERM
run init --data "$CDIR" --central --name "Drammen kommune"
"$K" init --data "$KON" --hub konnerud --name "Knutepunkt Konnerud" >/dev/null
GRENDE=$("$K" --data "$KON" room add --name "Konnerud grendehus" --capacity 60 --open "mon-sun 09:00-22:00")
"$K" --data "$KON" activity add --title "Møteplass for eldre" --organiser "Kirkens Bymisjon" --category "møteplass" --target eldre --from "2026-12-03 11:00" --to "2026-12-03 13:00" --weekly --until 2027-06-17 --room "$GRENDE" >/dev/null
"$K" --data "$KON" booking add --room "$GRENDE" --from "2026-12-05 12:00" --to "2026-12-05 16:00" --org "Blå Kors" --purpose "Julemarked" >/dev/null
printf '$ knute-central --data %s --listen %s &\n' "$CDIR" "$EP"
"$ROOT/bin/knute-central" --data "$CDIR" --listen "$EP" 2>"$TOP/central.log" &
PIDS="$PIDS $!"
for HDIR in "$DIR" "$KON"; do
	printf '$ knute-hub --data %s --central %s &\n' "$HDIR" "$EP"
	"$ROOT/bin/knute-hub" --data "$HDIR" --central "$EP" 2>"$HDIR.log" &
	PIDS="$PIDS $!"
done
# Wait (at most 20 s) until both hubs' changes are at central.
synced() {
	"$K" --data "$1" status --json | python3 -c 'import json, sys
v = json.load(sys.stdin)
sys.exit(0 if v["acked_seq"] == v["head_seq"] else 1)'
}
i=0
while [ $i -lt 100 ] && ! { synced "$DIR" && synced "$KON"; }; do
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

printf '\nThe stores are in %s (fjell, konnerud, central; daemon logs beside them).\n' "$TOP"
printf 'Try  KNUTE_DATA=%s %s booking list\n' "$DIR" "$K"
