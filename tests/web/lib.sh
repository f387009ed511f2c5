# Shared start of the web tests: the sync tests' daemons (tests/sync/lib.sh)
# with their web servers on free loopback ports, and a small HTTP client.
#
#	. "$(dirname "$0")/lib.sh"
#
# central_start_web / hub_start_web HUB start the daemons with --http;
# central_url / hub_url HUB print their base URLs. http METHOD URL [BODY]
# prints the answer's body and leaves its status code in $T/http.status
# (a BODY is sent as application/json).
. "$(dirname "$0")/../sync/lib.sh"
command -v curl >/dev/null 2>&1 || {
	echo "FAIL web: curl is missing (scripts/install-deps.sh installs it)"
	exit 1
}
CHTTP=$(free_port)

central_start_web() {
	"$KC" --data "$C" --listen "$EP" --http "127.0.0.1:$CHTTP" \
		2>>"$T/central.log" &
	echo $! >"$T/central.pid"
	wait_for 10 curl -sf -o /dev/null "$(central_url)/metrics"
}

central_url() { echo "http://127.0.0.1:$CHTTP"; }

# hub_start_web HUB: start HUB's daemon with its web server (the same port
# after a restart).
hub_start_web() {
	[ -f "$T/$1.http" ] || free_port >"$T/$1.http"
	HUB_ARGS="--http 127.0.0.1:$(cat "$T/$1.http") $HUB_ARGS" hub_start "$1"
	wait_for 10 curl -sf -o /dev/null "$(hub_url "$1")/metrics"
}

hub_url() { echo "http://127.0.0.1:$(cat "$T/$1.http")"; }

http() {
	if [ $# -ge 3 ]; then
		curl -s -o "$T/http.body" -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' \
			--data-binary "$3" "$2" >"$T/http.status"
	else
		curl -s -o "$T/http.body" -w '%{http_code}' -X "$1" "$2" \
			>"$T/http.status"
	fi
	cat "$T/http.body"
}

http_status() { cat "$T/http.status"; }
