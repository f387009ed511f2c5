/*
 * cmd_keys.h - CurveZMQ keys on the command line (docs/security.md):
 * 'knute keys show' at any store, 'keys add', 'keys revoke' and
 * 'keys list' at central's, 'keys central' at a hub's.
 */
#ifndef KNUTE_CMD_KEYS_H
#define KNUTE_CMD_KEYS_H

#include "cli.h"

extern const struct cli_command cli_keys_commands[];

#endif
