/*
 * cmd_requests.h - central requests on the command line: 'knute
 * requests' at central's store, and the --hub door of 'booking add' and
 * 'activity add', which at central's store stores a request for the hub
 * (central/creq.h) instead of writing a record.
 */
#ifndef KNUTE_CMD_REQUESTS_H
#define KNUTE_CMD_REQUESTS_H

#include <jansson.h>

#include "cli.h"

extern const struct cli_command cli_requests_commands[];

/*
 * Which door an add goes through. At a hub's store *hub is NULL (a local
 * add) and --hub or --wait are refused; at central's store --hub is
 * required and *hub is its value (a request). KP_OK, or KP_EINVAL after
 * printing why.
 */
int cli_request_hub(struct cli *cli, const char **hub);

/* The hub that short ids ("r1") belong to: --hub at central's store,
 * else the store's own hub. */
const char *cli_request_local_hub(struct cli *cli);

/*
 * Store a request to hub for a record of kind with fields (stolen), which
 * the caller built and checked exactly as for a local add; print its id
 * and state (with --json the request), and with --wait SECONDS wait for
 * the hub's answer: KP_OK when accepted or not waited for, KP_ECLASH
 * (exit 3) when refused, KP_EUNREACH (exit 1) when still pending, each
 * with its message; KP_EINVAL when central refuses the request.
 */
int cli_request_submit(struct cli *cli, const char *hub, char kind,
		       json_t *fields);

#endif
