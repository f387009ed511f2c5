#!/bin/sh
# knute import FILE: JSON Lines in, whole or not at all. Good files keep
# their ids and counts; a bad line, a clash, invalid UTF-8, a wrong hub or
# a duplicate id refuse the whole file with nothing written (the oplog head
# does not move); unknown fields are kept. One line per case: "PASS name"
# or "FAIL name: why".
K=${KNUTE:?set KNUTE to the knute binary}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset KNUTE_DATA KNUTE_TZ
D="$T/fjell"

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
jcheck() {
	python3 -c 'import json, os, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}
head_seq() {
	"$K" --data "$D" status --json >"$T/status" &&
		python3 -c 'import json,sys; print(json.load(sys.stdin)["head_seq"])' <"$T/status"
}
# imp FILE [OPTIONS]: import into $D, stdout in $T/out, stderr in $T/err.
imp() {
	f=$1
	shift
	"$K" --data "$D" import "$f" "$@" >"$T/out" 2>"$T/err"
}

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null

# 2026-12-01 (a Tuesday) 17:00, 19:00, 21:00 in Oslo (UTC+1).
T17=1796140800 T19=1796148000 T21=1796155200

# ---- a good file ----
cat >"$T/good.jsonl" <<EOF
{"id":"fjell:r5","kind":"room","hub":"fjell","name":"Storsalen på Fjell","capacity":80,"open":"mon-sun 08:00-22:00"}
{"kind":"room","name":"Grupperom Åssiden","capacity":12}

{"id":"fjell:b40","kind":"booking","hub":"fjell","room":"fjell:r5","org":"Røde Kors","status":"confirmed","start":$T17,"end":$T19,"x_future":1}
{"kind":"booking","room":"r5","org":"Blå Kors","contact":"Kari \u00d8deg\u00e5rd","status":"pending","start":$T19,"end":$T21}
{"id":"fjell:a3","kind":"activity","title":"Leksehjelp","organiser":"Frivilligsentralen","category":"leksehjelp","target":"barn","room":"fjell:r5","weekly":true,"days":"thu","until":"2027-01-28","start":1796317200,"end":1796324400,"police_required":true}
{"id":"fjell:v2","kind":"volunteer","name":"Ola Nordmann","police":{"role":"leksehjelp","shown":"2026-09-01"}}
{"kind":"assignment","volunteer":"fjell:v2","activity":"fjell:a3"}
EOF
if imp "$T/good.jsonl" &&
	grep -q "imported 7 records (2 rooms, 2 bookings, 1 activity, 1 volunteer, 1 assignment)" "$T/out" &&
	[ "$(head_seq)" = 7 ]; then
	pass good_file_imported
else
	fail good_file_imported "$(cat "$T/out" "$T/err")"
fi
"$K" --data "$D" booking show b40 --json >"$T/b40.json" 2>"$T/err"
if jcheck "$T/b40.json" 'v["id"] == "fjell:b40" and v["org"] == "Røde Kors" and v["start"] == '"$T17"; then
	pass ids_kept
else
	fail ids_kept "$(cat "$T/b40.json" "$T/err")"
fi
if jcheck "$T/b40.json" 'v["x_future"] == 1'; then
	pass unknown_field_kept
else
	fail unknown_field_kept "$(cat "$T/b40.json")"
fi
"$K" --data "$D" booking list --json >"$T/list.json"
if jcheck "$T/list.json" 'any(b["org"] == "Blå Kors" and b["contact"] == "Kari Ødegård" and b["room"] == "fjell:r5" for b in v)'; then
	pass escapes_and_short_refs
else
	fail escapes_and_short_refs "$(cat "$T/list.json")"
fi
new_room=$("$K" --data "$D" room add --name "Lesesalen" --capacity 20 2>"$T/err")
new_booking=$("$K" --data "$D" booking add --room r5 --from "2026-12-02 17:00" \
	--to "2026-12-02 18:00" --org "Kirkens Bymisjon" 2>>"$T/err")
if [ "$new_room" = fjell:r7 ] && [ "$new_booking" = fjell:b42 ]; then
	pass later_add_gets_fresh_id
else
	fail later_add_gets_fresh_id "room $new_room, booking $new_booking (want fjell:r7, fjell:b42): $(cat "$T/err")"
fi
# The imported slots hold: a booking over b40 clashes.
"$K" --data "$D" booking add --room r5 --from "2026-12-01 18:00" \
	--to "2026-12-01 18:30" --org "Blå Kors" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "fjell:b40" "$T/err"; then
	pass imported_slots_hold
else
	fail imported_slots_hold "exit $rc: $(cat "$T/err")"
fi

# ---- refusals write nothing ----
before=$(head_seq)
cat >"$T/bad.jsonl" <<EOF
{"kind":"room","name":"Konnerud grendehus","capacity":40}
{"kind":"booking","room":"fjell:r5","org":"Røde Kors","status":"confirmed","start":1796400000,"end":1796403600}
{"kind":"room","name":"Strømsø bydelshus","capacity":-3}
EOF
imp "$T/bad.jsonl"
rc=$?
if [ $rc -eq 2 ] && grep -q "line 3: field 'capacity'" "$T/err" &&
	grep -q "nothing was written" "$T/err" && [ "$(head_seq)" = "$before" ]; then
	pass bad_line_refused_whole
else
	fail bad_line_refused_whole "exit $rc, head $(head_seq) (was $before): $(cat "$T/err")"
fi

cat >"$T/clash.jsonl" <<EOF
{"kind":"booking","room":"fjell:r5","org":"Røde Kors","status":"confirmed","start":1796400000,"end":1796407200}
{"kind":"booking","room":"fjell:r5","org":"Blå Kors","status":"confirmed","start":1796403600,"end":1796410800}
EOF
imp "$T/clash.jsonl"
rc=$?
if [ $rc -eq 3 ] && grep -q "line 2: .*clashes with the booking on line 1" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass clash_in_file_refused
else
	fail clash_in_file_refused "exit $rc: $(cat "$T/err")"
fi

printf '{"kind":"booking","room":"fjell:r5","org":"Frivilligsentralen","status":"confirmed","start":%s,"end":%s}\n' \
	"$T17" "$T19" >"$T/clash2.jsonl"
imp "$T/clash2.jsonl"
rc=$?
if [ $rc -eq 3 ] && grep -q "line 1: .*clashes with booking fjell:b40 (Røde Kors" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass clash_with_store_refused
else
	fail clash_with_store_refused "exit $rc: $(cat "$T/err")"
fi

printf '{"kind":"room","name":"Fjell","capacity":1}\n{"kind":"room","name":"Fj\377ll","capacity":1}\n' >"$T/utf8.jsonl"
imp "$T/utf8.jsonl"
rc=$?
if [ $rc -eq 2 ] && grep -q "line 2: .*not valid UTF-8" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass invalid_utf8_refused
else
	fail invalid_utf8_refused "exit $rc: $(cat "$T/err")"
fi

printf '{"kind":"room","hub":"konnerud","name":"Konnerud","capacity":1}\n{"id":"fjell:r9","kind":"room","name":"A","capacity":1}\n{"id":"fjell:r9","kind":"room","name":"B","capacity":1}\n' >"$T/owner.jsonl"
imp "$T/owner.jsonl"
rc=$?
if [ $rc -eq 2 ] && grep -q "line 1: .*konnerud" "$T/err" &&
	grep -q "line 3: the id fjell:r9 was given on line 2" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass other_hub_and_duplicate_id_refused
else
	fail other_hub_and_duplicate_id_refused "exit $rc: $(cat "$T/err")"
fi

printf '{"kind":"booking","room":"fjell:r30","org":"Blå Kors","status":"confirmed","start":1796400000,"end":1796403600}\n{"id":"fjell:r30","kind":"room","name":"Sent","capacity":1}\n' >"$T/order.jsonl"
imp "$T/order.jsonl"
rc=$?
if [ $rc -eq 4 ] && grep -q "line 1: room fjell:r30 comes on a later line (2)" "$T/err"; then
	pass room_after_booking_refused
else
	fail room_after_booking_refused "exit $rc: $(cat "$T/err")"
fi

printf '{"id":"fjell:v8","kind":"volunteer","name":"Per Hansen"}\n{"kind":"assignment","volunteer":"fjell:v8","activity":"fjell:a3"}\n' >"$T/police.jsonl"
imp "$T/police.jsonl"
rc=$?
if [ $rc -eq 2 ] && grep -q "line 2: .*police certificate" "$T/err" &&
	[ "$(head_seq)" = "$before" ]; then
	pass police_rule_refused
else
	fail police_rule_refused "exit $rc: $(cat "$T/err")"
fi

i=0
: >"$T/many.jsonl"
while [ $i -lt 25 ]; do
	echo '{"kind":"room","name":"x"}' >>"$T/many.jsonl"
	i=$((i + 1))
done
imp "$T/many.jsonl"
rc=$?
if [ $rc -eq 2 ] && grep -q "25 of 25 lines" "$T/err" && grep -q "and 5 more" "$T/err" &&
	[ "$(grep -c '^  line ' "$T/err")" = 20 ]; then
	pass many_bad_lines_listed
else
	fail many_bad_lines_listed "exit $rc: $(cat "$T/err")"
fi

# ---- standard input, JSON output, importing twice ----
printf '{"kind":"room","name":"Gymsalen","capacity":60}\n' |
	"$K" --data "$D" --json import - >"$T/stdin.json" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && jcheck "$T/stdin.json" 'v["imported"] == 1 and v["records"]["room"] == 1'; then
	pass stdin_and_json
else
	fail stdin_and_json "exit $rc: $(cat "$T/stdin.json" "$T/err")"
fi

grep '"id"' "$T/good.jsonl" >"$T/again.jsonl"
rooms=$("$K" --data "$D" room list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
imp "$T/again.jsonl"
rc=$?
rooms2=$("$K" --data "$D" room list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
if [ $rc -eq 0 ] && grep -q "replaced" "$T/out" && [ "$rooms" = "$rooms2" ] &&
	"$K" --data "$D" booking show b40 >/dev/null; then
	pass import_twice_replaces
else
	fail import_twice_replaces "exit $rc, rooms $rooms -> $rooms2: $(cat "$T/out" "$T/err")"
fi

# Two bookings of the store swap their times in a re-import: one
# transaction frees the old slots before the new ones are taken.
cat >"$T/swap.jsonl" <<EOF
{"id":"fjell:b40","kind":"booking","room":"fjell:r5","org":"Røde Kors","status":"confirmed","start":$T19,"end":$T21}
{"id":"fjell:b41","kind":"booking","room":"fjell:r5","org":"Blå Kors","status":"pending","start":$T17,"end":$T19}
EOF
imp "$T/swap.jsonl"
rc=$?
"$K" --data "$D" booking show b40 --json >"$T/b40.json"
"$K" --data "$D" booking show b41 --json >"$T/b41.json"
if [ $rc -eq 0 ] && jcheck "$T/b40.json" 'v["start"] == '"$T19" &&
	jcheck "$T/b41.json" 'v["start"] == '"$T17"; then
	pass reimport_swaps_bookings
else
	fail reimport_swaps_bookings "exit $rc: $(cat "$T/out" "$T/err")"
fi
"$K" --data "$D" booking add --room r5 --from "2026-12-01 20:00" \
	--to "2026-12-01 20:30" --org "Blå Kors" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "fjell:b40" "$T/err"; then
	pass swapped_slots_hold
else
	fail swapped_slots_hold "exit $rc: $(cat "$T/err")"
fi

# ---- the fast way and the slow way read alike ----
# Plain bookings and activities go the fast way (hub/cmd_import.c, "the
# fast path"); KNUTE_IMPORT_CROSSCHECK=1 reads each of them the slow way
# as well and fails the import where the two differ; KNUTE_IMPORT_FAST=0
# reads every line the slow way. 2027-03-01 is a Monday; 17:00 there is
# 1803916800, and the weekly series cross the clock change of 28 March.
D2="$T/fast" D3="$T/slow"
cat >"$T/plain.jsonl" <<EOF
{"id":"fjell:r1","kind":"room","name":"Storsalen på Fjell","capacity":80,"open":"mon-sun 08:00-22:00"}
{"id":"fjell:r2","kind":"room","name":"Grupperom Konnerud","capacity":12}
{"kind":"booking","room":"r1","org":"Røde Kors","status":"confirmed","start":1803916800,"end":1803924000}
{"id":"b7","kind":"booking","hub":"fjell","room":"fjell:r1","org":"Blå Kors","contact":"Kari Nordmann","purpose":"Styremøte","status":"pending","start":1803924000,"end":1803927600,"cancelled":[]}
{"id":"fjell:b9","room":"r2","org":"Kirkens Bymisjon","status":"confirmed","start":1803916800,"end":1803920400,"weekly":true,"days":"mon,thu","until":"2027-04-08","cancelled":[1804176000]}
  {"kind" : "booking", "room" : "r2", "org" : "Frivilligsentralen", "status" : "cancelled", "start" : 1803916800, "end" : 1803920400}
{"kind":"activity","title":"Språkkafé på norsk","organiser":"Frivilligsentralen Drammen","category":"språkkafé","target":"voksne","room":"r1","weekly":true,"days":"tue,wed","until":"2027-04-14","start":1804006800,"end":1804014000,"volunteers_needed":3,"skills":["norsk","førstehjelp"],"police_required":true}
{"id":"fjell:a4","kind":"activity","title":"Leksehjelp","organiser":"Røde Kors","category":"leksehjelp","target":"barn","status":"active","description":"5.-7. trinn","start":1804093200,"end":1804100400}
{"kind":"booking","room":"r1","org":"Strømsø Velforening","status":"confirmed","activity":"a4","start":1803902400,"end":1803906000}
{"kind":"booking","room":"r2","org":"Blå Kors","status":"confirmed","start":1806138000,"end":1806141600,"note":"unknown fields go the slow way"}
{"kind":"booking","room":"r2","org":"Blå \u00d8st","status":"confirmed","start":1806141600,"end":1806145200}
EOF
"$K" init --data "$D2" --hub fjell --name "Knutepunkt Fjell" >/dev/null
"$K" init --data "$D3" --hub fjell --name "Knutepunkt Fjell" >/dev/null
KNUTE_IMPORT_TIMING=1 KNUTE_IMPORT_CROSSCHECK=1 "$K" --data "$D2" import "$T/plain.jsonl" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "imported 11 records" "$T/out" &&
	grep -q " 7 of 11 lines the fast way)" "$T/err"; then
	pass fast_way_reads_as_slow_way
else
	fail fast_way_reads_as_slow_way "exit $rc: $(cat "$T/out" "$T/err")"
fi
KNUTE_IMPORT_FAST=0 "$K" --data "$D3" import "$T/plain.jsonl" >"$T/out" 2>"$T/err"
rc=$?
same=yes
for what in "booking list" "activity list" "booking show b9" "activity show a4"; do
	# shellcheck disable=SC2086
	"$K" --data "$D2" $what --json >"$T/fast.json" 2>&1
	# shellcheck disable=SC2086
	"$K" --data "$D3" $what --json >"$T/slow.json" 2>&1
	cmp -s "$T/fast.json" "$T/slow.json" || same="no: $what differs"
done
if [ $rc -eq 0 ] && [ "$same" = yes ]; then
	pass fast_and_slow_stores_alike
else
	fail fast_and_slow_stores_alike "exit $rc, $same: $(cat "$T/err")"
fi

# A bad line among plain ones: the fast way leaves it to the slow way,
# which names it, and nothing is written.
i=0
: >"$T/mixed.jsonl"
while [ $i -lt 40 ]; do
	echo "{\"kind\":\"booking\",\"room\":\"r2\",\"org\":\"Røde Kors\",\"status\":\"confirmed\",\"start\":$((1811000000 + i * 7200)),\"end\":$((1811003600 + i * 7200))}" >>"$T/mixed.jsonl"
	[ $i -eq 29 ] && echo '{"kind":"booking","room":"r2","org":"Blå Kors","status":"maybe","start":1812000000,"end":1812003600}' >>"$T/mixed.jsonl"
	i=$((i + 1))
done
seq2() {
	"$K" --data "$D2" status --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["head_seq"])'
}
before2=$(seq2)
"$K" --data "$D2" import "$T/mixed.jsonl" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "1 of 41 lines has a problem" "$T/err" &&
	grep -q "line 31: field 'status'" "$T/err" && [ "$(seq2)" = "$before2" ]; then
	pass bad_line_among_plain_ones
else
	fail bad_line_among_plain_ones "exit $rc, head $before2 -> $(seq2): $(cat "$T/err")"
fi

# Every record, its oplog entry (seqs without a gap) and its slots are
# written whatever the batches: a file in batches of 7 (KNUTE_IMPORT_BATCH).
grep -v maybe "$T/mixed.jsonl" >"$T/good40.jsonl"
KNUTE_IMPORT_BATCH=7 "$K" --data "$D2" import "$T/good40.jsonl" >"$T/out" 2>"$T/err"
rc=$?
"$K" --data "$D2" booking list --room r2 --json >"$T/list.json" 2>>"$T/err"
"$K" --data "$D2" booking add --room r2 --from "2027-05-23 08:00" \
	--to "2027-05-23 22:00" --org "Blå Kors" >/dev/null 2>"$T/clash"
crc=$?
if [ $rc -eq 0 ] && grep -q "imported 40 records" "$T/out" &&
	[ "$(seq2)" = $((before2 + 40)) ] && [ $crc -eq 3 ] &&
	jcheck "$T/list.json" 'sum(1 for b in v if b["org"] == "Røde Kors") == 40'; then
	pass batches_write_everything
else
	fail batches_write_everything "exit $rc, clash exit $crc, head $(seq2) (want $((before2 + 40))): $(cat "$T/out" "$T/err" "$T/clash")"
fi

# Another process books while a big import runs: whatever the order, the
# room is never booked twice (the import checks its slots again inside
# each batch once the store moved, and stops where a slot was taken).
D4="$T/race"
"$K" init --data "$D4" --hub fjell --name "Knutepunkt Fjell" >/dev/null
python3 - "$T/race.jsonl" <<'PYEOF'
import sys
# Rooms r1..r4 each booked hour after hour from 2026-01-05 00:00 in Oslo
# (1767567600), 30000 bookings in all: the last, of r4, 2026-11-13 11:00.
t0 = 1767567600
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for r in range(1, 5):
        f.write('{"id":"fjell:r%d","kind":"room","name":"Rom %d","capacity":10}\n' % (r, r))
    for i in range(30000):
        s = t0 + 3600 * (i // 4)
        f.write('{"kind":"booking","room":"r%d","org":"Røde Kors","status":"confirmed","start":%d,"end":%d}\n'
                % (i % 4 + 1, s, s + 3600))
PYEOF
KNUTE_IMPORT_BATCH=2000 "$K" --data "$D4" import "$T/race.jsonl" \
	>"$T/race.out" 2>"$T/race.err" &
pid=$!
i=0
while [ $i -lt 40 ]; do
	"$K" --data "$D4" booking add --room r4 --from "2026-11-13 11:00" \
		--to "2026-11-13 12:00" --org "Blå Kors" >/dev/null 2>&1 && break
	i=$((i + 1))
done
wait $pid
rc=$?
"$K" --data "$D4" booking list --room r4 --json >"$T/r4.json" 2>>"$T/race.err"
# The booking came first (the import is refused whole), between the check
# and the write (the import stops there), or after (the booking clashes).
apart='all(a["end"] <= b["start"] for a, b in zip(s, s[1:]))'
if { [ $rc -eq 0 ] || { [ $rc -eq 3 ] && grep -q -e "nothing was written" \
	-e "by another process" "$T/race.err"; }; } &&
	jcheck "$T/r4.json" "(lambda s: $apart)(sorted(v, key=lambda b: b['start']))"; then
	pass import_and_booking_race
else
	fail import_and_booking_race "exit $rc: $(cat "$T/race.out" "$T/race.err")"
fi

# ---- the benchmark tool runs (small) ----
if [ -x "${BIN:-}/bench_store" ]; then
	"$BIN/bench_store" --knute "$K" --dir "$T" --records 3000 --writes 20 \
		--rounds 3 --json >"$T/bench.json" 2>"$T/err"
	rc=$?
	if [ $rc -eq 0 ] && jcheck "$T/bench.json" \
		'v["booking_writes_per_s"] > 0 and v["raw_lmdb_commits_per_s"] > 0 and v["bulk_inserts_per_s"] > 0'; then
		pass bench_store_runs
	else
		fail bench_store_runs "exit $rc: $(cat "$T/bench.json" "$T/err")"
	fi
fi
