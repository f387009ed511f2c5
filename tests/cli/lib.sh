# Shared start of every command-line test script. A script sources it
# first:
#
#	. "$(dirname "$0")/lib.sh"
#
# and then has K (the knute binary, from $KNUTE, which tests/run.sh sets),
# T (a fresh temporary directory, removed when the script exits), D (the
# hub's data directory inside T, not yet created) and the helpers below.
# KNUTE_DATA and KNUTE_TZ are cleared so that the caller's environment
# cannot leak into a test; a script that wants KNUTE_DATA exports it
# itself. A script that needs more cleaning up sets its own EXIT trap
# (and removes T there). Each case prints one line: "PASS name" or
# "FAIL name: why".
K=${KNUTE:?set KNUTE to the knute binary}
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
unset KNUTE_DATA KNUTE_TZ
D="$T/fjell"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# run ARGS...: run knute ARGS with stdout in $T/out, stderr in $T/err and
# the exit status in $rc.
run() {
	"$K" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# jcheck FILE EXPR: true when the Python expression EXPR holds for v, the
# JSON value in FILE (os.environ is there for expected texts).
jcheck() {
	python3 -c 'import json, os, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# is_json FILE: true when FILE holds one JSON value.
is_json() { python3 -c 'import json,sys; json.load(sys.stdin)' <"$1" 2>/dev/null; }

# status_field NAME: print the top-level field NAME of "status --json" for
# the hub in $D; print nothing when status fails.
status_field() {
	"$K" --data "$D" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" 2>/dev/null
}

# head_seq: the hub's oplog head, which moves on every write.
head_seq() { status_field head_seq; }

# expect NAME CODE PATTERN ARGS...: knute ARGS must exit with CODE, print
# one line "knute: ..." on stderr containing PATTERN (a fixed string; ""
# for any), nothing on stdout, and write nothing (head_seq of $D does not
# move). Leaves the outcome in $rc, $T/out and $T/err like run.
expect() {
	name=$1 code=$2 pattern=$3
	shift 3
	before=$(head_seq)
	run "$@"
	after=$(head_seq)
	lines=$(wc -l <"$T/err")
	why=
	if [ $rc -ne "$code" ]; then
		why="exit $rc, expected $code"
	elif [ "$lines" -ne 1 ]; then
		why="$lines lines on stderr"
	elif ! grep -q "^knute: " "$T/err"; then
		why="stderr does not start with 'knute: '"
	elif [ -n "$pattern" ] && ! grep -q -F -- "$pattern" "$T/err"; then
		why="message does not contain '$pattern'"
	elif [ -s "$T/out" ]; then
		why="printed on stdout: $(head -c 200 "$T/out")"
	elif [ "$after" != "$before" ]; then
		why="head_seq moved from $before to $after"
	fi
	if [ -z "$why" ]; then
		pass "$name"
	else
		fail "$name" "$why: $(cat "$T/err")"
	fi
}

# bad NAME ARGS...: bad input; expect exit 2 with any one-line message.
bad() {
	name=$1
	shift
	expect "$name" 2 "" "$@"
}
