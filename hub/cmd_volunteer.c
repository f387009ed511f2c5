/* cmd_volunteer.c - knute volunteer commands (being written). */
#include "cli.h"

const struct cli_command cli_volunteer_commands[] = {
	{0},
};
