#!/bin/sh
# The browser test: Drammen kommune's central and hubs at Fjell, Åssiden
# and Konnerud with their web servers; dashboard.js drives Debian's
# headless Chromium (through playwright-core) over the dashboard and
# Fjell's hub page. Each case prints "PASS name" or "FAIL name: why".
. "$(dirname "$0")/../web/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ] ||
	! command -v chromium >/dev/null 2>&1; then
	fail browser "playwright-core or chromium is missing: run sh scripts/install-browser-deps.sh (make test does)"
	exit 1
fi

# A week's date in Europe/Oslo, and a booking on it late in the evening
# (whatever day the test runs, the booking falls in this week).
TODAY=$(TZ=Europe/Oslo date +%F)

central_init
hub_init fjell "Knutepunkt Fjell"
hub_init assiden "Knutepunkt Åssiden"
hub_init konnerud "Knutepunkt Konnerud"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hk assiden room add --name "Storstua" --capacity 50 >/dev/null
hk konnerud room add --name "Konnerud grendehus" --capacity 60 >/dev/null
hk fjell booking add --room r1 --from "$TODAY 08:00" --to "$TODAY 09:00" \
	--org "Røde Kors" >/dev/null

central_start_web
for h in fjell assiden konnerud; do hub_start_web "$h"; done
wait_for 20 synced fjell && wait_for 20 synced assiden &&
	wait_for 20 synced konnerud ||
	fail setup "the hubs did not sync with central in 20 s"

CENTRAL_URL=$(central_url) FJELL_URL=$(hub_url fjell) \
	KONNERUD_PID=$(cat "$T/konnerud.pid") TODAY="$TODAY" \
	CHROMIUM=$(command -v chromium) \
	node "$HERE/dashboard.js"
rc=$?
# The script stopped Konnerud's daemon itself; forget its pid file.
rm -f "$T/konnerud.pid"
exit $rc
