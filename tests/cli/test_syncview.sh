#!/bin/sh
# What the command line shows of sync, without the daemons: knute status at
# a hub and at central, --all-hubs on the list commands, hubs, overview,
# deadletters and the error paths of verify. The tables the daemons would
# write (meta keys, mirror, hubs, records, dead) are filled with mdb_load
# (lmdb-utils) from msgpack made by a small encoder below. One line per
# case: "PASS name" or "FAIL name: why".
. "$(dirname "$0")/lib.sh"

C="$T/central"

# ---- filling tables as the daemons would ----

cat >"$T/load.py" <<'EOF'
# load.py DIR TABLE: read Python (key, value) pairs, one per line, from
# stdin and put them in TABLE of the LMDB environment DIR with mdb_load.
# Keys and values: bytes as they are, str as UTF-8 text, anything else as
# msgpack. rkey(hub, kind, n) makes a record key (kp_id_key).
import subprocess, sys

def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if v >= 0:
            return b"\xcf" + v.to_bytes(8, "big")
        return b"\xd3" + v.to_bytes(8, "big", signed=True)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        if len(b) < 256:
            return b"\xd9" + bytes([len(b)]) + b
        return b"\xda" + len(b).to_bytes(2, "big") + b
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b"\xdc" + len(v).to_bytes(2, "big")
        return head + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b"\xde" + len(v).to_bytes(2, "big")
        return head + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)

def rkey(hub, kind, n):
    return hub.encode() + b"\0" + kind.encode() + n.to_bytes(8, "big")

def raw(x, text):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str) and text:
        return x.encode()
    return mp(x)

lines = ["VERSION=3", "format=bytevalue", "type=btree", "HEADER=END"]
for src in sys.stdin.read().splitlines():
    if not src.strip():
        continue
    k, v = eval(src)
    lines.append(" " + raw(k, True).hex())
    lines.append(" " + raw(v, sys.argv[2] == "meta").hex())
lines.append("DATA=END")
subprocess.run(["mdb_load", "-s", sys.argv[2], sys.argv[1]],
               input=("\n".join(lines) + "\n").encode(), check=True)
EOF

# load DIR TABLE: the pairs on stdin into TABLE of the store in DIR.
load() { python3 "$T/load.py" "$1" "$2"; }

# jfield FILE EXPR: print the Python expression EXPR of v, the JSON in FILE.
jfield() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1], encoding="utf-8"))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

"$K" init --data "$D" --hub fjell --name "Knutepunkt Fjell" >/dev/null &&
	"$K" init --data "$C" --central --name "Drammen kommune" >/dev/null || {
	fail syncview_init "could not create the stores"
	exit 0
}
export KNUTE_DATA="$D"

# ---- status at a fresh hub ----
"$K" room add --name "Storsalen" --capacity 80 >/dev/null
"$K" room add --name "Grupperom 2" --capacity 12 >/dev/null
"$K" activity add --title "Leksehjelp" --organiser "Røde Kors" \
	--category leksehjelp --target barn --from "2026-12-01 17:00" \
	--to "2026-12-01 19:00" >/dev/null
run status --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v["hub"] == "fjell" and v["head_seq"] == 3 and v["acked_seq"] == 0 and v["pending"] == 3 and v["name"] == "Knutepunkt Fjell" and len(v["incarnation"]) == 32 and v["central"]["address"] is None and v["central"]["reachable"] is False and v["central"]["last_contact"] is None and v["mirror"]["state"] == "never" and v["mirror"]["records"] == 0 and v["mirror"]["updated"] is None and v["dead_letters"] == 0 and v["records"]["room"] == 2'; then
	pass status_fresh_hub_json
else
	fail status_fresh_hub_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run status
if [ $rc -eq 0 ] && grep -q "^central: *not set: start knute-hub" "$T/out" &&
	grep -q "^reachable: *no" "$T/out" && grep -q "^acked seq: *0$" "$T/out" &&
	grep -q "^pending: *3 changes" "$T/out" &&
	grep -q "^mirror: *never received from central yet" "$T/out" &&
	grep -q "^dead letters: *0" "$T/out"; then
	pass status_fresh_hub_text
else
	fail status_fresh_hub_text "rc=$rc $(cat "$T/out" "$T/err")"
fi

# ---- --all-hubs before central sent anything ----
run room list --all-hubs --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'len(v) == 2 and all(r["hub"] == "fjell" and r["id"].startswith("fjell:") for r in v)' &&
	[ ! -s "$T/err" ]; then
	pass all_hubs_empty_mirror_json
else
	fail all_hubs_empty_mirror_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run room list --all-hubs
if [ $rc -eq 0 ] && grep -q "^mirror: never received from central yet" "$T/err" &&
	head -n 1 "$T/out" | grep -q "^HUB  *ID  *NAME" &&
	grep -q "^fjell  *fjell:r1  *Storsalen" "$T/out"; then
	pass all_hubs_empty_mirror_text
else
	fail all_hubs_empty_mirror_text "rc=$rc $(cat "$T/out" "$T/err")"
fi

# ---- status with the daemon's meta keys ----
NOW=$(date +%s)
load "$D" meta <<EOF
("central_addr", "tcp://127.0.0.1:5570")
("central_session", "up")
("central_contact", "$NOW")
("acked_seq", "2")
("down_seq", "7")
("mirror_at", "$NOW")
("mirror_state", "ok")
EOF
run status --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v["acked_seq"] == 2 and v["pending"] == 1 and v["central"]["address"] == "tcp://127.0.0.1:5570" and v["central"]["reachable"] is True and v["central"]["last_contact"].endswith("Z") and v["mirror"]["seq"] == 7 and v["mirror"]["state"] == "ok" and v["mirror"]["updated"] is not None'; then
	pass status_link_up_json
else
	fail status_link_up_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run status
if [ $rc -eq 0 ] && grep -q "^central: *tcp://127.0.0.1:5570" "$T/out" &&
	grep -q "^reachable: *yes, last contact .* Europe/Oslo" "$T/out" &&
	grep -q "^pending: *1 change not" "$T/out"; then
	pass status_link_up_text
else
	fail status_link_up_text "rc=$rc $(cat "$T/out" "$T/err")"
fi
# A session still marked up but silent for a minute is not reachable;
# nor is one marked down however recent.
NOW=$(date +%s)
load "$D" meta <<EOF
("central_contact", "$((NOW - 60))")
EOF
run status --json
r1=$(jfield "$T/out" 'v["central"]["reachable"]')
load "$D" meta <<EOF
("central_contact", "$NOW")
("central_session", "down")
EOF
run status --json
r2=$(jfield "$T/out" 'v["central"]["reachable"]')
if [ "$r1" = False ] && [ "$r2" = False ]; then
	pass status_link_stale_or_down
else
	fail status_link_stale_or_down "silent: $r1, down: $r2"
fi

load "$D" mirror <<EOF
(rkey("konnerud", "r", 1), {"id": "konnerud:r1", "kind": "room", "hub": "konnerud", "name": "Konnerud bydelshus", "capacity": 120})
(rkey("konnerud", "a", 1), {"id": "konnerud:a1", "kind": "activity", "hub": "konnerud", "title": "Språkkafé", "organiser": "Frivilligsentralen", "category": "språkkafé", "target": "voksne", "start": 1796230800, "end": 1796238000})
(rkey("assiden", "r", 4), {"id": "assiden:r4", "kind": "room", "hub": "assiden", "name": "Åssiden kirke, kjelleren", "capacity": 30})
(rkey("assiden", "b", 2), {"id": "assiden:b2", "kind": "booking", "hub": "assiden", "room": "assiden:r4", "org": "Blå Kors", "status": "confirmed", "start": 1796230800, "end": 1796238000})
EOF
run room list --all-hubs --json
if [ $rc -eq 0 ] && jcheck "$T/out" '[r["id"] for r in v] == ["fjell:r1", "fjell:r2", "assiden:r4", "konnerud:r1"] and [r["hub"] for r in v] == ["fjell", "fjell", "assiden", "konnerud"]' &&
	[ ! -s "$T/err" ]; then
	pass all_hubs_rooms_json
else
	fail all_hubs_rooms_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run room list --all-hubs
if [ $rc -eq 0 ] && grep -q "^mirror of other districts: updated .* (Europe/Oslo), 2 hubs, 4 records$" "$T/err" &&
	grep -q "^konnerud  *konnerud:r1  *Konnerud bydelshus  *120" "$T/out" &&
	grep -q "^assiden  *assiden:r4  *Åssiden kirke, kjelleren" "$T/out"; then
	pass all_hubs_rooms_text
else
	fail all_hubs_rooms_text "rc=$rc $(cat "$T/out" "$T/err")"
fi
run room list --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'len(v) == 2'; then
	pass list_without_all_hubs_is_own
else
	fail list_without_all_hubs_is_own "rc=$rc $(cat "$T/out" "$T/err")"
fi
run activity list --all-hubs --category språkkafé --json
if [ $rc -eq 0 ] && jcheck "$T/out" '[r["id"] for r in v] == ["konnerud:a1"]'; then
	pass all_hubs_activities_filtered
else
	fail all_hubs_activities_filtered "rc=$rc $(cat "$T/out" "$T/err")"
fi
run booking list --all-hubs
if [ $rc -eq 0 ] && grep -q "^assiden  *assiden:b2  *assiden:r4 .*Blå Kors" "$T/out"; then
	pass all_hubs_bookings
else
	fail all_hubs_bookings "rc=$rc $(cat "$T/out" "$T/err")"
fi
load "$D" meta <<EOF
("mirror_state", "rebuilding")
EOF
run activity list --all-hubs
if [ $rc -eq 0 ] && grep -q "being rebuilt" "$T/err"; then
	pass all_hubs_says_rebuilding
else
	fail all_hubs_says_rebuilding "rc=$rc $(cat "$T/err")"
fi

# ---- central commands refused at a hub, hub commands at central ----
expect hubs_at_hub_refused 2 "hubs is a central command" hubs
expect overview_at_hub_refused 2 "overview is a central command" overview
expect verify_at_central_refused 2 "verify runs at a hub" --data "$C" verify
expect all_hubs_at_central_refused 2 "--all-hubs is for a hub" --data "$C" room list --all-hubs

# ---- central, empty ----
run --data "$C" hubs --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v == []'; then
	pass hubs_empty_central
else
	fail hubs_empty_central "rc=$rc $(cat "$T/out" "$T/err")"
fi
run --data "$C" overview --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v["districts"] == []'; then
	pass overview_empty_central
else
	fail overview_empty_central "rc=$rc $(cat "$T/out" "$T/err")"
fi
run --data "$C" deadletters --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v == []'; then
	pass deadletters_empty
else
	fail deadletters_empty "rc=$rc $(cat "$T/out" "$T/err")"
fi

# ---- central with a registry, records and dead letters ----
NOW=$(date +%s)
load "$C" hubs <<EOF
("fjell", {"hub": "fjell", "name": "fjell", "inc": "a" * 32, "applied": 40, "aseq": 40, "aat": $NOW, "aid": "fjell:r1", "head": 45, "dseq": 9, "seen": $NOW, "dead": 1})
("konnerud", {"hub": "konnerud", "name": "konnerud", "inc": "b" * 32, "applied": 12, "aseq": 12, "aat": $NOW, "aid": "konnerud:r1", "head": 10, "dseq": 9, "seen": $((NOW - 600)), "dead": 0})
EOF
run --data "$C" hubs --json
if [ $rc -eq 0 ] && jcheck "$T/out" '[(h["id"], h["online"], h["applied_seq"], h["backlog"], h["dead_letters"]) for h in v] == [("fjell", True, 40, 5, 1), ("konnerud", False, 12, 0, 0)] and all(h["last_seen"].endswith("Z") for h in v)'; then
	pass hubs_registry_json
else
	fail hubs_registry_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run --data "$C" hubs
if [ $rc -eq 0 ] && grep -q "^fjell  *fjell  *online  *20[0-9-]* [0-9:]*  *40  *5  *1$" "$T/out" &&
	grep -q "^konnerud  *konnerud  *offline " "$T/out" &&
	grep -q "LAST SEEN (Europe/Oslo)" "$T/out"; then
	pass hubs_registry_text
else
	fail hubs_registry_text "rc=$rc $(cat "$T/out" "$T/err")"
fi

# This week's Monday and Wednesday 10:00 in Oslo, and next week's Monday.
eval "$(python3 -c 'import datetime, zoneinfo
z = zoneinfo.ZoneInfo("Europe/Oslo")
today = datetime.datetime.now(z).date()
mon = today - datetime.timedelta(days=today.weekday())
def at(d, h):
    return int(datetime.datetime(d.year, d.month, d.day, h, tzinfo=z).timestamp())
print("MON10=%d NEXTMON=%d UNTIL=%s" % (at(mon, 10), at(mon + datetime.timedelta(days=7), 10), (mon + datetime.timedelta(days=30)).isoformat()))')"
load "$C" records <<EOF
(rkey("fjell", "r", 1), {"seq": 1, "op": "put", "id": "fjell:r1", "at": $NOW, "rec": {"id": "fjell:r1", "kind": "room", "hub": "fjell", "name": "Storsalen", "capacity": 80}})
(rkey("fjell", "a", 1), {"seq": 2, "op": "put", "id": "fjell:a1", "at": $NOW, "rec": {"id": "fjell:a1", "kind": "activity", "hub": "fjell", "title": "Leksehjelp", "organiser": "Røde Kors", "category": "leksehjelp", "target": "barn", "start": $MON10, "end": $((MON10 + 7200))}})
(rkey("fjell", "a", 2), {"seq": 3, "op": "put", "id": "fjell:a2", "at": $NOW, "rec": {"id": "fjell:a2", "kind": "activity", "hub": "fjell", "title": "Leksehjelp for ungdom", "organiser": "Røde Kors", "category": "leksehjelp", "target": "ungdom", "start": $MON10, "end": $((MON10 + 7200))}})
(rkey("fjell", "a", 3), {"seq": 4, "op": "put", "id": "fjell:a3", "at": $NOW, "rec": {"id": "fjell:a3", "kind": "activity", "hub": "fjell", "title": "Avlyst", "organiser": "Røde Kors", "category": "kultur", "target": "alle", "status": "cancelled", "start": $MON10, "end": $((MON10 + 7200))}})
(rkey("fjell", "b", 1), {"seq": 5, "op": "put", "id": "fjell:b1", "at": $NOW, "rec": {"id": "fjell:b1", "kind": "booking", "hub": "fjell", "room": "fjell:r1", "org": "Kirkens Bymisjon", "status": "confirmed", "start": $MON10, "end": $((MON10 + 3600)), "weekly": True, "days": "mon,wed", "until": "$UNTIL"}})
(rkey("fjell", "b", 2), {"seq": 6, "op": "put", "id": "fjell:b2", "at": $NOW, "rec": {"id": "fjell:b2", "kind": "booking", "hub": "fjell", "room": "fjell:r1", "org": "Blå Kors", "status": "confirmed", "start": $NEXTMON, "end": $((NEXTMON + 3600))}})
(rkey("fjell", "b", 3), {"seq": 7, "op": "put", "id": "fjell:b3", "at": $NOW, "rec": {"id": "fjell:b3", "kind": "booking", "hub": "fjell", "room": "fjell:r1", "org": "Blå Kors", "status": "cancelled", "start": $MON10, "end": $((MON10 + 3600))}})
(rkey("fjell", "v", 1), {"seq": 8, "op": "put", "id": "fjell:v1", "at": $NOW, "rec": {"id": "fjell:v1", "kind": "volunteer", "hub": "fjell", "name": "Kari Nordmann", "skills": ["norsk", "matlaging"], "consent": {"share": True, "date": "2026-01-10"}}})
(rkey("fjell", "v", 2), {"seq": 9, "op": "put", "id": "fjell:v2", "at": $NOW, "rec": {"id": "fjell:v2", "kind": "volunteer", "hub": "fjell", "name": "Ola Hemmelig", "skills": ["norsk"], "consent": {"share": False}}})
(rkey("konnerud", "r", 1), {"seq": 1, "op": "put", "id": "konnerud:r1", "at": $NOW, "rec": {"id": "konnerud:r1", "kind": "room", "hub": "konnerud", "name": "Konnerud bydelshus", "capacity": 120}})
EOF
run --data "$C" overview --json
if [ $rc -eq 0 ] && jcheck "$T/out" '[d["hub"] for d in v["districts"]] == ["fjell", "konnerud"] and v["districts"][0]["activities"]["by_category"] == {"leksehjelp": 2} and v["districts"][0]["activities"]["by_target"] == {"barn": 1, "ungdom": 1} and v["districts"][0]["bookings_this_week"] == 2 and v["districts"][0]["volunteers"]["count"] == 2 and v["districts"][0]["volunteers"]["by_skill"] == {"norsk": 2, "matlaging": 1} and v["districts"][1]["bookings_this_week"] == 0 and v["districts"][1]["rooms"] == 1'; then
	pass overview_counts
else
	fail overview_counts "rc=$rc $(cat "$T/out" "$T/err")"
fi
if jcheck "$T/out" 'v["districts"][0]["volunteers"]["consenting"] == [{"id": "fjell:v1", "name": "Kari Nordmann", "skills": ["norsk", "matlaging"]}]' &&
	! grep -q "Hemmelig" "$T/out"; then
	pass overview_names_only_with_consent
else
	fail overview_names_only_with_consent "$(cat "$T/out")"
fi
run --data "$C" overview
if [ $rc -eq 0 ] && grep -q "^Drammen kommune: 2 districts; week" "$T/out" &&
	grep -q "activities: *2 (leksehjelp 2)" "$T/out" &&
	grep -q "bookings this week: *2" "$T/out" &&
	grep -q "Kari Nordmann (fjell:v1): norsk, matlaging" "$T/out" &&
	! grep -q "Hemmelig" "$T/out"; then
	pass overview_text
else
	fail overview_text "rc=$rc $(cat "$T/out" "$T/err")"
fi

load "$C" dead <<EOF
(bytes(8), {"hub": "fjell", "seq": 17, "id": "fjell:b9", "reason": "field \"start\" is missing", "at": $NOW, "entry": {"seq": 17, "op": "put", "id": "fjell:b9"}})
(bytes(7) + bytes([1]), {"hub": "konnerud", "seq": 3, "id": "fjell:r2", "reason": "the record fjell:r2 belongs to hub fjell, not to the sending hub konnerud", "at": $NOW, "entry": "(not msgpack)"})
EOF
run --data "$C" deadletters --json
if [ $rc -eq 0 ] && jcheck "$T/out" '[(d["number"], d["hub"], d["seq"], d["id"]) for d in v] == [(0, "fjell", 17, "fjell:b9"), (1, "konnerud", 3, "fjell:r2")] and v[0]["entry"]["op"] == "put" and v[0]["at"].endswith("Z")'; then
	pass deadletters_central_json
else
	fail deadletters_central_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run --data "$C" deadletters --hub konnerud
if [ $rc -eq 0 ] && grep -q "^1  .*konnerud  *3  *fjell:r2  *the record fjell:r2 belongs" "$T/out" &&
	! grep -q "fjell:b9" "$T/out"; then
	pass deadletters_central_one_hub
else
	fail deadletters_central_one_hub "rc=$rc $(cat "$T/out" "$T/err")"
fi
run deadletters
if [ $rc -eq 0 ] && grep -q "^no dead letters" "$T/out"; then
	pass deadletters_hub_empty
else
	fail deadletters_hub_empty "rc=$rc $(cat "$T/out" "$T/err")"
fi

# Seen just now, so online (the registry entry is written again).
load "$C" hubs <<EOF
("fjell", {"hub": "fjell", "name": "fjell", "inc": "a" * 32, "applied": 40, "head": 45, "seen": $(date +%s), "dead": 1})
EOF
run --data "$C" status --json
if [ $rc -eq 0 ] && jcheck "$T/out" 'v["role"] == "central" and v["hubs"] == 2 and v["hubs_online"] == 1 and v["dead_letters"] == 2 and v["records"]["room"] == 2 and v["records"]["booking"] == 3 and v["records"]["volunteer"] == 2 and v["mlog_head"] == 0'; then
	pass status_central_json
else
	fail status_central_json "rc=$rc $(cat "$T/out" "$T/err")"
fi
run --data "$C" status
if [ $rc -eq 0 ] && grep -q "^central: *Drammen kommune" "$T/out" &&
	grep -q "^hubs: *2 (1 online" "$T/out" &&
	grep -q "^dead letters: *2" "$T/out"; then
	pass status_central_text
else
	fail status_central_text "rc=$rc $(cat "$T/out" "$T/err")"
fi

# ---- verify: the paths that need no central ----
H2="$T/assiden"
"$K" init --data "$H2" --hub assiden --name "Knutepunkt Åssiden" >/dev/null
expect verify_no_address 2 "does not know central's address" --data "$H2" verify
expect verify_central_needs_value 2 "--central needs central's address" --data "$H2" verify --central
# Nothing listens on this ipc endpoint: central "did not answer".
run --data "$H2" verify --central "ipc://$T/nobody" --timeout 1
if [ $rc -eq 1 ] && grep -q "^knute: central at ipc://$T/nobody did not answer within 1 s" "$T/err" &&
	[ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -s "$T/out" ]; then
	pass verify_no_answer
else
	fail verify_no_answer "rc=$rc $(cat "$T/out" "$T/err")"
fi
# The address from meta (as knute-hub leaves it), and --central=ADDR.
load "$H2" meta <<EOF
("central_addr", "ipc://$T/nobody-either")
EOF
run --data "$H2" verify --timeout 1
r1=$rc
grep -q "nobody-either did not answer" "$T/err"
g1=$?
run --data "$H2" verify --central="ipc://$T/third" --timeout 1
if [ $r1 -eq 1 ] && [ $g1 -eq 0 ] && [ $rc -eq 1 ] && grep -q "third did not answer" "$T/err"; then
	pass verify_address_sources
else
	fail verify_address_sources "meta: $r1/$g1, option: $rc $(cat "$T/err")"
fi
expect verify_bad_timeout 2 "--timeout" --data "$H2" verify --timeout 0
expect verify_bad_address 2 "cannot connect to central" --data "$H2" verify --central "no-such-scheme://x"
