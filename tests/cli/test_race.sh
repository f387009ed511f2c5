#!/bin/sh
# Concurrent knute processes on one data directory.
#
# 1. Twenty "knute booking add" processes race for the same slot, five
#    rounds on fresh slots: each round exactly one wins (exit 0) and the
#    other nineteen get exit 3 naming the winner (the clash check and the
#    write are one LMDB write transaction).
# 2. Four processes add 25 bookings each in distinct slots at once; after
#    them the oplog seqs are contiguous: head_seq equals the number of
#    writes made, and mdb_dump lists exactly head_seq entries, 1..head_seq.
. "$(dirname "$0")/lib.sh"

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null
"$K" --data "$D" room add --name "Storsalen" --capacity 80 >/dev/null
"$K" --data "$D" room add --name "Møterommet" --capacity 12 >/dev/null
writes=2

# ---- 20 processes, one slot, five rounds ----
for round in 1 2 3 4 5; do
	from="2026-12-0$round 17:00"
	to="2026-12-0$round 19:00"
	j=1
	while [ $j -le 20 ]; do
		(
			"$K" --data "$D" booking add --room r1 --from "$from" --to "$to" \
				--org "Lag $j" >"$T/out.$round.$j" 2>"$T/err.$round.$j"
			echo $? >"$T/rc.$round.$j"
		) &
		j=$((j + 1))
	done
	wait
	won=0 lost=0 other=0 winner=
	j=1
	while [ $j -le 20 ]; do
		rc=$(cat "$T/rc.$round.$j" 2>/dev/null)
		case "$rc" in
		0)
			won=$((won + 1))
			winner=$(cat "$T/out.$round.$j")
			winner_org="Lag $j"
			;;
		3) lost=$((lost + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
		j=$((j + 1))
	done
	writes=$((writes + won))
	if [ $won -eq 1 ] && [ $lost -eq 19 ]; then
		pass "race_round_${round}_one_winner"
	else
		fail "race_round_${round}_one_winner" "$won won, $lost clashed, $other other: $(cat "$T"/err.$round.* | sort | uniq -c | head -5)"
		continue
	fi
	# Every loser names the winner and its organisation.
	named=$(grep -l "clashes with booking $winner ($winner_org," "$T"/err.$round.* | wc -l)
	if [ "$named" -eq 19 ]; then
		pass "race_round_${round}_losers_name_winner"
	else
		fail "race_round_${round}_losers_name_winner" "$named of 19 name $winner ($winner_org)"
	fi
	# The store holds exactly one booking of that slot.
	n=$("$K" --data "$D" booking list --json |
		python3 -c 'import json,sys
print(sum(1 for b in json.load(sys.stdin) if b["start"] == int(sys.argv[1])))' \
			"$((1796140800 + (round - 1) * 86400))")
	if [ "$n" = 1 ]; then
		pass "race_round_${round}_one_booking_stored"
	else
		fail "race_round_${round}_one_booking_stored" "$n bookings start then"
	fi
done

# ---- 4 writers, 25 bookings each, distinct slots ----
for p in 1 2 3 4; do
	(
		ok=0 n=1
		while [ $n -le 25 ]; do
			day=$(printf '%02d' "$n")
			hour=$((8 + 3 * p))
			if "$K" --data "$D" booking add --room r2 \
				--from "2027-01-$day $hour:00" --to "2027-01-$day $((hour + 2)):00" \
				--org "Skriver $p" >/dev/null 2>>"$T/writer.$p.err"; then
				ok=$((ok + 1))
			fi
			n=$((n + 1))
		done
		echo $ok >"$T/writer.$p.ok"
	) &
done
wait
ok=0
for p in 1 2 3 4; do
	ok=$((ok + $(cat "$T/writer.$p.ok" 2>/dev/null || echo 0)))
done
writes=$((writes + ok))
if [ $ok -eq 100 ]; then
	pass concurrent_writers_all_succeed
else
	fail concurrent_writers_all_succeed "$ok of 100: $(cat "$T"/writer.*.err | head -3)"
fi

head=$(status_field head_seq)
if [ "$head" = "$writes" ]; then
	pass head_seq_counts_every_write
else
	fail head_seq_counts_every_write "head_seq $head, writes $writes"
fi

entries=$(mdb_dump -s oplog -p "$D" 2>"$T/dump.err" | grep -c '^ ')
entries=$((entries / 2))
if [ "$entries" = "$head" ]; then
	pass oplog_has_head_seq_entries
else
	fail oplog_has_head_seq_entries "mdb_dump lists $entries, head_seq $head: $(cat "$T/dump.err")"
fi

# The keys are 1..head_seq with no gap (8-byte big-endian, hex dump).
if mdb_dump -s oplog "$D" 2>/dev/null | python3 -c 'import sys
lines = [l[1:].strip() for l in sys.stdin if l.startswith(" ")]
keys = [int(k, 16) for k in lines[0::2]]
sys.exit(0 if keys == list(range(1, int(sys.argv[1]) + 1)) else 1)' "$head"; then
	pass oplog_seqs_contiguous
else
	fail oplog_seqs_contiguous "keys are not 1..$head"
fi

# Every booking that won got its own id: none was handed out twice.
if "$K" --data "$D" booking list --json | python3 -c 'import json,sys
v = json.load(sys.stdin)
ids = [b["id"] for b in v]
sys.exit(0 if len(ids) == len(set(ids)) == int(sys.argv[1]) else 1)' "$((writes - 2))"; then
	pass booking_ids_unique
else
	fail booking_ids_unique "booking ids are not unique or not $((writes - 2))"
fi
