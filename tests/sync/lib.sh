# Shared start of the sync tests: real knute-central and knute-hub
# processes on loopback, on a free port, with data directories in a fresh
# temporary directory. A script sources it first:
#
#	. "$(dirname "$0")/lib.sh"
#
# Every process started here is stopped by its pid when the script ends.
# Each case prints one line: "PASS name" or "FAIL name: why".
. "$(dirname "$0")/../cli/lib.sh"
BIN=${BIN:-$(dirname "$K")}
KH="$BIN/knute-hub"
KC="$BIN/knute-central"
POKE="$BIN/kp_poke"
INJECT="$BIN/kp_inject"
C="$T/central"
trap 'sync_cleanup' EXIT

sync_cleanup() {
	for f in "$T"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	if [ -n "$KEEP_LOGS" ]; then
		cat "$T"/*.log >&2
	fi
	rm -rf "$T"
}

# A TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
PORT=$(free_port)
EP="tcp://127.0.0.1:$PORT"

central_init() {
	"$K" init --data "$C" --central --name "Drammen kommune" >/dev/null
}

central_start() {
	"$KC" --data "$C" --listen "$EP" 2>>"$T/central.log" &
	echo $! >"$T/central.pid"
}

# central_stop [SIGNAL]: stop central (TERM by default) and wait for it.
central_stop() {
	[ -f "$T/central.pid" ] || return 0
	pid=$(cat "$T/central.pid")
	kill "-${1:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/central.pid"
}

# hub_init HUB NAME
hub_init() {
	"$K" init --data "$T/$1" --hub "$1" --name "$2" >/dev/null
}

# hub_start HUB: start HUB's daemon ($HUB_ARGS: more options).
hub_start() {
	"$KH" --data "$T/$1" --central "$EP" $HUB_ARGS 2>>"$T/$1.log" &
	echo $! >"$T/$1.pid"
}

# hub_stop HUB [SIGNAL]
hub_stop() {
	[ -f "$T/$1.pid" ] || return 0
	pid=$(cat "$T/$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$T/$1.pid"
}

# hk HUB ARGS...: knute on HUB's data directory.
hk() {
	_hub=$1
	shift
	"$K" --data "$T/$_hub" "$@"
}

# json_get FIELD: the top-level FIELD of the JSON object on stdin.
json_get() {
	python3 -c 'import json,sys
try: print(json.load(sys.stdin)[sys.argv[1]])
except Exception: print("")' "$1"
}

hub_head() { hk "$1" status --json 2>/dev/null | json_get head_seq; }
hub_acked() { hk "$1" status --json 2>/dev/null | json_get acked_seq; }

# central_applied HUB: the seq central applied for HUB ("" if unknown).
central_applied() {
	"$K" --data "$C" hubs --json 2>/dev/null | python3 -c 'import json,sys
try:
    for h in json.load(sys.stdin):
        if h["id"] == sys.argv[1]: print(h["applied_seq"])
except Exception: pass' "$1"
}

# synced HUB: central applied everything HUB has, and HUB knows it.
synced() {
	_head=$(hub_head "$1")
	[ -n "$_head" ] && [ "$(central_applied "$1")" = "$_head" ] &&
		[ "$(hub_acked "$1")" = "$_head" ]
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds; false
# when it never did.
wait_for() {
	_end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -le "$_end" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# gen_bookings HUB ROOM N DAYOFFSET: N non-clashing one-hour bookings of
# ROOM as JSON Lines on stdout, from DAYOFFSET days after 2027-01-04.
gen_bookings() {
	python3 - "$@" <<'EOF'
import json, sys
hub, room, n, off = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
base = 1799020800 + off * 86400  # 2027-01-04 00:00 UTC
orgs = ["Røde Kors", "Frivilligsentralen", "Kirkens Bymisjon", "Blå Kors",
        "Frelsesarmeen", "Mental Helse"]
for i in range(n):
    start = base + (i // 14) * 86400 + (7 + i % 14) * 3600
    print(json.dumps({"kind": "booking", "room": room, "org": orgs[i % 6],
                      "status": "confirmed", "start": start,
                      "end": start + 3600}, ensure_ascii=False))
EOF
}

# check NAME CMD...: PASS when CMD succeeds, else FAIL with the logs' tail.
check() {
	_name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		pass "$_name"
	else
		fail "$_name" "$* failed: $(tail -n 5 "$T/check.out" | tr '\n' ' ' | head -c 400)"
	fi
}
