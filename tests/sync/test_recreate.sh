#!/bin/sh
# 6. A hub's data directory recreated (a new incarnation): central
#    replaces that hub's partition with what the new store holds.
. "$(dirname "$0")/lib.sh"

central_init
central_start
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hk fjell room add --name "Møterommet" --capacity 12 >/dev/null
hk fjell booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" --org "Røde Kors" >/dev/null
hub_start fjell
wait_for 20 synced fjell
hub_stop fjell

rm -rf "$T/fjell"
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Gymsalen" --capacity 150 >/dev/null
hub_start fjell
check converged wait_for 20 synced fjell
check partition_replaced hk fjell verify
one_room() {
	mdb_dump -a -p "$C" 2>/dev/null | grep -q "Gymsalen" &&
		! mdb_dump -s records -p "$C" 2>/dev/null | grep -q "Møterommet"
}
check old_records_gone one_room
