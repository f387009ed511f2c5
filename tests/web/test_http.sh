#!/bin/sh
# The web server both daemons share (lib/http.c): options, files, the rules
# every API request follows.
. "$(dirname "$0")/lib.sh"

central_init
hub_init fjell "Knutepunkt Fjell"
central_start_web
hub_start_web fjell
CU=$(central_url)
HU=$(hub_url fjell)

# A page: the right type, and the hub's index at /.
code=$(curl -s -o "$T/page" -w '%{http_code} %{content_type}' "$HU/")
case "$code" in
"200 text/html"*) pass hub_index_page ;;
*) fail hub_index_page "GET / gave '$code'" ;;
esac
code=$(curl -s -o "$T/page" -w '%{http_code} %{content_type}' "$CU/")
case "$code" in
"200 text/html"*) pass central_index_page ;;
*) fail central_index_page "GET / gave '$code'" ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$HU/style.css")
case "$code" in
"200 text/css"*) pass stylesheet ;;
*) fail stylesheet "GET /style.css gave '$code'" ;;
esac

# Nothing outside the web root, however the path is spelled.
ok=1
for p in '/../Makefile' '/%2e%2e/Makefile' '/.hidden' '/a/../../Makefile' \
	'//etc/passwd' '/..%2fMakefile'; do
	code=$(curl -s --path-as-is -o "$T/trav" -w '%{http_code}' "$HU$p")
	if [ "$code" != 404 ] || grep -q 'CFLAGS' "$T/trav"; then
		ok=0
		why="GET $p gave $code"
	fi
done
[ $ok = 1 ] && pass no_path_outside_root || fail no_path_outside_root "$why"

# A POST that is not JSON is refused before any handler runs.
code=$(curl -s -o "$T/b" -w '%{http_code}' -X POST -d 'room=r1' "$HU/api/bookings")
if [ "$code" = 415 ] && grep -q 'application/json' "$T/b"; then
	pass post_needs_json
else
	fail post_needs_json "got $code: $(cat "$T/b")"
fi

# A body over 1 MiB: 413 with a message.
head -c 1100000 /dev/zero | tr '\0' 'x' >"$T/big"
code=$(curl -s -o "$T/b" -w '%{http_code}' -X POST \
	-H 'Content-Type: application/json' --data-binary @"$T/big" \
	"$HU/api/bookings")
if [ "$code" = 413 ] && grep -q 'larger than' "$T/b"; then
	pass body_too_large
else
	fail body_too_large "got $code: $(head -c 200 "$T/b")"
fi

# Unknown API paths: 404 with a JSON error.
http GET "$CU/api/nothing-here" >"$T/b"
if [ "$(http_status)" = 404 ] && grep -q '"error"' "$T/b"; then
	pass unknown_api_404
else
	fail unknown_api_404 "got $(http_status): $(cat "$T/b")"
fi

# Both daemons answer /metrics in the Prometheus text format.
curl -s "$CU/metrics" >"$T/m"
if grep -q '^knute_messages_received_total [0-9]' "$T/m" &&
	grep -q '^# TYPE knute_messages_received_total counter' "$T/m"; then
	pass central_metrics
else
	fail central_metrics "$(head -c 300 "$T/m")"
fi
curl -s "$HU/metrics" >"$T/m"
if grep -q '^knute_central_connected 1' "$T/m" &&
	grep -q '^knute_pending_changes 0' "$T/m"; then
	pass hub_metrics
else
	fail hub_metrics "$(head -c 300 "$T/m")"
fi

# Bad --http values: exit 2 with a message, nothing started.
"$KH" --data "$T/fjell" --central "$EP" --http 'localhost:http' \
	>/dev/null 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q 'is not ADDRESS:PORT' "$T/err"; then
	pass hub_bad_http_address
else
	fail hub_bad_http_address "exit $rc: $(cat "$T/err")"
fi
"$KC" --data "$C" --listen "tcp://127.0.0.1:$(free_port)" --http '1.2.3:99999' \
	>/dev/null 2>"$T/err"
rc=$?
if [ $rc = 2 ] && grep -q 'is not ADDRESS:PORT' "$T/err"; then
	pass central_bad_http_address
else
	fail central_bad_http_address "exit $rc: $(cat "$T/err")"
fi

# A port already taken: a clear message, and the daemon does not run.
hub_init konnerud "Knutepunkt Konnerud"
timeout 10 "$KH" --data "$T/konnerud" --central "$EP" \
	--http "127.0.0.1:$(cat "$T/fjell.http")" >/dev/null 2>"$T/err"
rc=$?
if [ $rc = 1 ] && grep -q 'cannot serve HTTP' "$T/err"; then
	pass port_in_use
else
	fail port_in_use "exit $rc: $(cat "$T/err")"
fi
