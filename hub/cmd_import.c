/* cmd_import.c - knute import commands (being written). */
#include "cli.h"

const struct cli_command cli_import_commands[] = {
	{0},
};
