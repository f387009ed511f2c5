#!/bin/sh
# Faults of the data directory: a full disk and a read-only file system.
# Each is made for real on a small tmpfs (this needs root, as CI has; the
# test says SKIP without it). Checked: a clear error, a non-zero exit,
# nothing half-written, and everything committed before still readable.
. "$(dirname "$0")/lib.sh"
cleanup() { umount "$T/mnt" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# A map that fills up grows by itself, and nothing is lost on the way.
G="$T/grow"
KNUTE_MAPSIZE=65536 "$K" init --data "$G" --hub fjell --name "Fjell" >/dev/null
pad=$(head -c 1000 /dev/zero | tr '\0' 'y')
i=0
while [ $i -lt 200 ]; do
	KNUTE_MAPSIZE=65536 "$K" --data "$G" room add --name "Rom $i" \
		--capacity 4 --notes "$pad" >/dev/null 2>"$T/err" || break
	i=$((i + 1))
done
size=$(mdb_stat -e "$G" | sed -n 's/.*Map size: *//p')
if [ $i -eq 200 ] && [ "$size" -gt 65536 ] &&
	[ "$("$K" --data "$G" room list --json | grep -c '"kind": "room"')" = 200 ]; then
	pass map_grows_when_full
else
	fail map_grows_when_full "wrote $i of 200, map $size: $(cat "$T/err")"
fi

mkdir -p "$T/mnt"
if ! mount -t tmpfs -o size=1m tmpfs "$T/mnt" 2>/dev/null; then
	echo "SKIP faults: cannot mount a tmpfs here (needs root)"
	exit 0
fi
D="$T/mnt/fjell"
"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null

# Fill the disk with rooms until a write is refused.
pad=$(head -c 1500 /dev/zero | tr '\0' 'x')
i=0 rc=0
while [ $i -lt 5000 ]; do
	"$K" --data "$D" room add --name "Rom $i" --capacity 5 --notes "$pad" \
		>/dev/null 2>"$T/err" || { rc=$?; break; }
	i=$((i + 1))
done
if [ $rc -eq 1 ] && grep -q "full" "$T/err"; then
	pass disk_full_clear_error
else
	fail disk_full_clear_error "rc=$rc after $i rooms: $(cat "$T/err")"
fi
head=$("$K" --data "$D" status --json | sed -n 's/.*"head_seq": \([0-9]*\).*/\1/p')
rooms=$("$K" --data "$D" room list --json | grep -c '"kind": "room"')
if [ "$head" = "$i" ] && [ "$rooms" = "$i" ]; then
	pass disk_full_nothing_half_written
else
	fail disk_full_nothing_half_written "head=$head rooms=$rooms added=$i"
fi
if "$K" --data "$D" room show "r$i" >/dev/null 2>&1; then
	pass disk_full_committed_kept
else
	fail disk_full_committed_kept "room r$i is not readable"
fi

# The same directory on a read-only file system.
mount -o remount,ro "$T/mnt"
"$K" --data "$D" room add --name "Ny" --capacity 3 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "read-only" "$T/err"; then
	pass readonly_write_refused
else
	fail readonly_write_refused "rc=$rc: $(cat "$T/err")"
fi
if [ "$("$K" --data "$D" room list --json | grep -c '"kind": "room"')" = "$i" ]; then
	pass readonly_reads_work
else
	fail readonly_reads_work "room list failed on a read-only store"
fi
