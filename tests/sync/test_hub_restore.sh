#!/bin/sh
# 5. A hub's data directory restored from an older backup: detected,
#    repaired from central, and converged without silently losing the
#    writes made after the backup, on either side.
. "$(dirname "$0")/lib.sh"

central_init
central_start
hub_init fjell "Knutepunkt Fjell"
hk fjell room add --name "Storsalen" --capacity 80 >/dev/null
hk fjell booking add --room r1 --from "2026-12-01 17:00" --to "2026-12-01 19:00" --org "Røde Kors" >/dev/null
hub_start fjell
wait_for 20 synced fjell
hub_stop fjell
cp -a "$T/fjell" "$T/fjell-backup"

# Written after the backup, and synced: only central has them once the
# disk is lost.
hub_start fjell
hk fjell booking add --room r1 --from "2026-12-02 17:00" --to "2026-12-02 19:00" --org "Blå Kors" >/dev/null
hk fjell booking add --room r1 --from "2026-12-03 17:00" --to "2026-12-03 19:00" --org "Kirkens Bymisjon" >/dev/null
hk fjell room add --name "Kjøkkenet" --capacity 10 >/dev/null
wait_for 20 synced fjell
hub_stop fjell KILL
rm -rf "$T/fjell"
mv "$T/fjell-backup" "$T/fjell"

# The restored hub takes new writes before it reaches central again.
hk fjell booking add --room r1 --from "2026-12-04 17:00" --to "2026-12-04 19:00" --org "Frelsesarmeen" >/dev/null
hub_start fjell
check detected wait_for 20 grep -q "differs" "$T/central.log"
check converged wait_for 30 synced fjell
check digest_equal hk fjell verify
has_all() {
	hk fjell booking list --json >"$T/b" 2>/dev/null &&
		jcheck "$T/b" '{"Røde Kors", "Blå Kors", "Kirkens Bymisjon", "Frelsesarmeen"} <= {b["org"] for b in v}'
}
check nothing_lost has_all
room_back() { hk fjell room list --json | jcheck /dev/stdin 'any(r["name"] == "Kjøkkenet" for r in v)'; }
check lost_room_back room_back
