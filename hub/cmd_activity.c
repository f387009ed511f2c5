/* cmd_activity.c - knute activity commands (being written). */
#include "cli.h"

const struct cli_command cli_activity_commands[] = {
	{0},
};
