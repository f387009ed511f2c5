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

#include "cli.h"

/* The export rows of each noun and the import-csv command. */
extern const struct cli_command cli_export_commands[];

#endif
