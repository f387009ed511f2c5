#!/bin/sh
# Run every unit-test binary and every command-line test script; count the
# PASS and FAIL lines and end with "N passed, N failed".
BUILD=${BUILD:-build/rel}
ROOT=$(pwd)
BIN=${BIN:-bin}
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
KNUTE="$BIN/knute"
export KNUTE ROOT BIN
log=$(mktemp)
died=0
for t in "$BUILD"/tests/test_* tests/cli/test_*.sh tests/sync/test_*.sh \
	tests/web/test_*.sh tests/browser/test_*.sh; do
	[ -f "$t" ] || continue
	echo "== $t" >>"$log"
	case "$t" in
	*.sh) sh "$t" >>"$log" 2>&1 ;;
	*) "$t" >>"$log" 2>&1 ;;
	esac
	rc=$?
	# A test that died without saying FAIL still counts as a failure.
	if [ $rc -ne 0 ] && ! tail -n 50 "$log" | grep -q '^FAIL '; then
		echo "FAIL $t exited with status $rc" >>"$log"
	fi
done
cat "$log"
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
