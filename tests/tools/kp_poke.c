/*
 * kp_poke.c - send central one hand-made frame and print its answer, for
 * the tests of what central does with bad input.
 *
 *   kp_poke ENDPOINT garbage        random bytes
 *   kp_poke ENDPOINT version        a HELLO of protocol version 2
 *   kp_poke ENDPOINT truncated      a HELLO cut in half
 *   kp_poke ENDPOINT nohub          a HELLO without its hub id
 *   kp_poke ENDPOINT hello HUB      a good HELLO of a new hub
 *
 * Prints "REFUSE: reason", "WELCOME mode", or "silence" when nothing came
 * within 3 s; exits 0 when an answer came, 1 on silence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zmq.h>

#include "codec.h"
#include "knute/error.h"
#include "wire.h"

static void s_hello(struct kp_msg *m, const char *hub)
{
	memset(m, 0, sizeof *m);
	m->type = KP_MSG_HELLO;
	m->session = 42;
	snprintf(m->hub, sizeof m->hub, "%s", hub);
	snprintf(m->inc, sizeof m->inc, "0123456789abcdef0123456789abcdef");
	m->oldest = 1;
}

int main(int argc, char **argv)
{
	struct kp_buf buf = {0};
	struct kp_msg m;
	char err[KP_ERR_MAX], reply[65536];
	void *ctx, *sock;
	int timeout = 3000, zero = 0, n, rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: kp_poke ENDPOINT garbage|version|"
				"truncated|nohub|hello HUB\n");
		return 2;
	}
	const char *what = argv[2];
	if (!strcmp(what, "garbage")) {
		uint8_t junk[64];
		if (getrandom(junk, sizeof junk, 0) != sizeof junk)
			return 1;
		junk[0] = 0xc1; /* never valid msgpack */
		kp_buf_append(&buf, junk, sizeof junk);
	} else if (!strcmp(what, "hello") && argc > 3) {
		s_hello(&m, argv[3]);
		kp_wire_encode(&m, &buf);
	} else if (!strcmp(what, "truncated")) {
		s_hello(&m, "fjell");
		kp_wire_encode(&m, &buf);
		buf.len /= 2;
	} else if (!strcmp(what, "version") || !strcmp(what, "nohub")) {
		/* Written through the codec as JSON, so the fields can be
		 * wrong in ways struct kp_msg cannot express. */
		json_t *o =
		    json_pack("{sisssI}", "v", !strcmp(what, "version") ? 2 : 1,
			      "t", "HELLO", "s", (json_int_t)42);
		kp_codec_encode(o, &buf);
		json_decref(o);
	} else {
		fprintf(stderr, "kp_poke: unknown frame kind '%s'\n", what);
		return 2;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
	if (zmq_connect(sock, argv[1])) {
		fprintf(stderr, "kp_poke: cannot connect to %s\n", argv[1]);
		return 2;
	}
	zmq_send(sock, buf.data, buf.len, 0);
	n = zmq_recv(sock, reply, sizeof reply, 0);
	if (n < 0) {
		printf("silence\n");
	} else if (kp_wire_decode(reply, (size_t)n, &m, err)) {
		printf("undecodable answer: %s\n", err);
	} else {
		if (m.type == KP_MSG_REFUSE)
			printf("REFUSE: %s\n", m.reason);
		else if (m.type == KP_MSG_WELCOME)
			printf("WELCOME %s\n", m.mode == KP_RESUME ? "resume"
					       : m.mode == KP_SNAPSHOT
						   ? "snapshot"
						   : "restore");
		else
			printf("%s\n", kp_wire_type_name(m.type));
		rc = 0;
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
	kp_buf_free(&buf);
	return rc;
}
