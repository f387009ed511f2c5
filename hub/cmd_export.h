/*
 * cmd_export.h - exports for calendars and spreadsheets, and the
 * spreadsheet import (hub/cmd_export.c):
 *
 *   knute booking export --format ics|csv [--room ID] [--hub ID]
 *   knute activity export --format ics|csv [--room ID] [--hub ID]
 *   knute room export --format csv [--hub ID]
 *   knute volunteer export --format csv [--include-personal]
 *   knute import-csv --kind room|activity|volunteer FILE [--new-ids]
 */
#ifndef KNUTE_CMD_EXPORT_H
#define KNUTE_CMD_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "knute/store.h"

/* The export rows of each noun and the import-csv command. */
extern const struct cli_command cli_export_commands[];

/* What kp_export_write() writes. */
struct kp_export {
	char kind;	  /* KP_BOOKING, KP_ACTIVITY, KP_ROOM or KP_VOLUNTEER */
	bool ics;	  /* iCalendar (bookings, activities only); else CSV */
	bool personal;	  /* volunteers: the personal columns too */
	const char *hub;  /* at central: only this hub's records; NULL all */
	const char *room; /* only this room's ("fjell:r1"); NULL all */
};

/*
 * Write the export x of store's records to out: the bytes of 'knute ...
 * export' (docs/cli.md), built whole in memory first, so nothing is
 * written when it fails. An iCalendar export is in Europe/Oslo whatever
 * zone is in use; the zone is put back afterwards. KP_OK; KP_ENOTFOUND
 * when x->room is no room of the store; KP_EINVAL for iCalendar of rooms
 * or volunteers; KP_EIO when out could not be written; or the store's
 * error.
 */
int kp_export_write(kp_store *store, const struct kp_export *x, FILE *out);

#endif
