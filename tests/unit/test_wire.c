/*
 * test_wire.c - the sync protocol's messages (proto/wire.c): every type
 * round trip with every field it carries, and frames from outside that
 * must be refused with a reason (garbage, truncated, another version,
 * missing or mistyped fields) rather than crash or half-decode; batches
 * built and walked; fingerprints of oplog entries.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "knute/error.h"
#include "wire.h"

/* ---- helpers ---- */

static int s_write(void *data, const char *bytes, size_t len)
{
	return kp_buf_append(data, bytes, len) ? -1 : 0;
}

static void s_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* A message filled with a distinct value in every field, of type t. */
static void s_fill(struct kp_msg *m, enum kp_msg_type t)
{
	static const uint8_t entries[] = {0x81, 0xa1, 'a', 0x01, /* {a: 1} */
					  0x81, 0xa1, 'b', 0x02};
	memset(m, 0, sizeof *m);
	m->type = t;
	m->session = 0x1122334455667788ULL;
	snprintf(m->hub, sizeof m->hub, "fjell");
	snprintf(m->inc, sizeof m->inc, "0123456789abcdef0123456789abcdef");
	m->head = 42;
	m->oldest = 7;
	m->down.seq = 99;
	m->down.at = 1796140800123LL;
	snprintf(m->down.id, sizeof m->down.id, "konnerud:r3");
	snprintf(m->cinc, sizeof m->cinc, "fedcba9876543210fedcba9876543210");
	m->mode = KP_RESTORE;
	m->from = 43;
	m->check.seq = 41;
	m->check.at = -5;
	snprintf(m->check.id, sizeof m->check.id, "fjell:b12");
	m->down_reset = true;
	m->first = 10;
	m->last = 11;
	m->count = 2;
	m->data = entries;
	m->len = sizeof entries;
	m->end = true;
	m->total = 1000000;
	for (int i = 0; i < 16; i++)
		m->digest[i] = (uint8_t)(0xa0 + i);
	m->seq = UINT64_MAX;
	m->gap = true;
	snprintf(m->reason, sizeof m->reason,
		 "Røde Kors på Åssiden: feil versjon");
}

static int s_round(const struct kp_msg *in, struct kp_msg *out,
		   struct kp_buf *buf)
{
	char err[KP_ERR_MAX];
	int rc;
	buf->len = 0;
	if ((rc = kp_wire_encode(in, buf)))
		return rc;
	rc = kp_wire_decode(buf->data, buf->len, out, err);
	if (rc)
		printf("  decode: %s\n", err);
	return rc;
}

static bool s_fp_is(const struct kp_fp *fp, uint64_t seq, int64_t at,
		    const char *id)
{
	return fp->seq == seq && fp->at == at && !strcmp(fp->id, id);
}

/* ---- round trips ---- */

static void test_round_trip_hello(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	s_fill(&in, KP_MSG_HELLO);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_HELLO);
	CHECK(out.session == in.session);
	CHECK_STR(out.hub, "fjell");
	CHECK_STR(out.inc, in.inc);
	CHECK_INT(out.head, 42);
	CHECK_INT(out.oldest, 7);
	CHECK(s_fp_is(&out.down, 99, 1796140800123LL, "konnerud:r3"));
	CHECK_STR(out.cinc, in.cinc);
	/* Fields of other types are not sent. */
	CHECK_INT(out.from, 0);
	CHECK(out.data == NULL);
	CHECK(!out.down_reset);
	CHECK_INT(out.seq, 0);
	kp_buf_free(&buf);
}

static void test_round_trip_welcome(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	for (int mode = KP_RESUME; mode <= KP_RESTORE; mode++) {
		s_fill(&in, KP_MSG_WELCOME);
		in.mode = (enum kp_welcome_mode)mode;
		in.down_reset = mode == KP_SNAPSHOT;
		CHECK_INT(s_round(&in, &out, &buf), KP_OK);
		CHECK_INT(out.type, KP_MSG_WELCOME);
		CHECK(out.session == in.session);
		CHECK_INT(out.mode, mode);
		CHECK_INT(out.from, 43);
		CHECK(s_fp_is(&out.check, 41, -5, "fjell:b12"));
		CHECK(out.down_reset == (mode == KP_SNAPSHOT));
		CHECK_STR(out.cinc, in.cinc);
		CHECK_STR(out.hub, "");
	}
	kp_buf_free(&buf);
}

static void test_round_trip_refuse_and_diverged(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	s_fill(&in, KP_MSG_REFUSE);
	in.session = 0; /* central may refuse before any session */
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_REFUSE);
	CHECK_STR(out.reason, in.reason);
	s_fill(&in, KP_MSG_DIVERGED);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_DIVERGED);
	CHECK(out.session == in.session);
	CHECK_STR(out.reason, in.reason);
	kp_buf_free(&buf);
}

static void test_round_trip_changes_and_down(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	s_fill(&in, KP_MSG_CHANGES);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_CHANGES);
	CHECK_INT(out.first, 10);
	CHECK_INT(out.last, 11);
	CHECK_INT(out.count, 2);
	CHECK_INT(out.len, in.len);
	CHECK(out.data && !memcmp(out.data, in.data, in.len));
	/* data points into the frame, not at the sender's bytes. */
	CHECK(out.data >= (const uint8_t *)buf.data &&
	      out.data < (const uint8_t *)buf.data + buf.len);
	CHECK(!out.end);
	s_fill(&in, KP_MSG_DOWN);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_DOWN);
	CHECK_INT(out.first, 10);
	CHECK_INT(out.last, 11);
	CHECK(out.down_reset);
	CHECK(out.end);
	CHECK_INT(out.total, 0); /* DOWN carries no total */
	kp_buf_free(&buf);
}

static void test_round_trip_snap_restore_verify(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	s_fill(&in, KP_MSG_SNAP);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_SNAP);
	CHECK_STR(out.inc, in.inc);
	CHECK_INT(out.head, 42);
	CHECK_INT(out.count, 2);
	CHECK(out.end);
	CHECK_INT(out.total, 1000000);
	CHECK(!memcmp(out.digest, in.digest, 16));
	CHECK(s_fp_is(&out.check, 41, -5, "fjell:b12"));
	s_fill(&in, KP_MSG_RESTORE);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_RESTORE);
	CHECK_INT(out.count, 2);
	CHECK(out.end);
	CHECK_INT(out.total, 1000000);
	s_fill(&in, KP_MSG_VERIFY);
	in.session = 0;
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_VERIFY);
	CHECK_STR(out.hub, "fjell");
	s_fill(&in, KP_MSG_VERIFY_R);
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_VERIFY_R);
	CHECK_INT(out.count, 2);
	CHECK(out.end);
	kp_buf_free(&buf);
}

static void test_round_trip_acks_and_ping(void)
{
	static const enum kp_msg_type types[] = {
	    KP_MSG_ACK, KP_MSG_DOWN_ACK, KP_MSG_PING, KP_MSG_RESTORE_ACK};
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		s_fill(&in, types[i]);
		CHECK_INT(s_round(&in, &out, &buf), KP_OK);
		CHECK_INT(out.type, types[i]);
		CHECK(out.session == in.session);
		CHECK(out.seq == UINT64_MAX);
		CHECK(out.gap == (types[i] == KP_MSG_ACK));
	}
	s_fill(&in, KP_MSG_ACK);
	in.gap = false;
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK(!out.gap);
	kp_buf_free(&buf);
}

static void test_round_trip_command(void)
{
	static const uint8_t rec[] = {0x81, 0xa3, 'o',	'r', 'g', 0xa9,
				      'R',  0xc3, 0xb8, 'd', 'e', ' ',
				      'K',  'o',  'r'}; /* {org: "Røde Kor"} */
	struct kp_msg in, out;
	struct kp_buf buf = {0};

	s_fill(&in, KP_MSG_COMMAND);
	snprintf(in.token, sizeof in.token, "00112233445566778899aabbccddeeff");
	in.num = 7;
	snprintf(in.kind, sizeof in.kind, "booking");
	in.data = rec;
	in.len = sizeof rec;
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_COMMAND);
	CHECK_STR(out.token, in.token);
	CHECK_INT(out.num, 7);
	CHECK_STR(out.kind, "booking");
	CHECK_INT(out.len, sizeof rec);
	CHECK(out.data && !memcmp(out.data, rec, sizeof rec));
	CHECK_STR(out.rid, "");

	s_fill(&in, KP_MSG_COMMAND_RESULT);
	snprintf(in.token, sizeof in.token, "00112233445566778899aabbccddeeff");
	in.num = 7;
	snprintf(in.state, sizeof in.state, "refused");
	snprintf(in.rid, sizeof in.rid, "fjell:b12");
	snprintf(in.reason, sizeof in.reason,
		 "booking refused: 2030-01-08 18:00-19:30 clashes with "
		 "booking fjell:b1 (Røde Kors, 2030-01-08 17:00-19:00)");
	CHECK_INT(s_round(&in, &out, &buf), KP_OK);
	CHECK_INT(out.type, KP_MSG_COMMAND_RESULT);
	CHECK_STR(out.state, "refused");
	CHECK_STR(out.rid, "fjell:b12");
	CHECK_STR(out.reason, in.reason);
	CHECK(out.data == NULL);

	kp_buf_free(&buf);
}

static void test_every_type_has_a_name(void)
{
	for (int t = KP_MSG_NONE + 1; t < KP_MSG_NTYPES; t++) {
		const char *n = kp_wire_type_name((enum kp_msg_type)t);
		CHECK(n && strcmp(n, "unknown") && strcmp(n, "NONE"));
	}
	CHECK_STR(kp_wire_type_name(KP_MSG_NONE), "unknown");
	CHECK_STR(kp_wire_type_name(KP_MSG_NTYPES), "unknown");
	CHECK_STR(kp_wire_type_name(KP_MSG_WELCOME), "WELCOME");
}

static void test_encode_refuses_misuse(void)
{
	struct kp_msg m;
	struct kp_buf buf = {0};
	s_fill(&m, KP_MSG_NONE);
	CHECK_INT(kp_wire_encode(&m, &buf), KP_EINVAL);
	s_fill(&m, KP_MSG_NTYPES);
	CHECK_INT(kp_wire_encode(&m, &buf), KP_EINVAL);
	s_fill(&m, KP_MSG_WELCOME);
	m.mode = (enum kp_welcome_mode)0;
	buf.len = 0;
	CHECK_INT(kp_wire_encode(&m, &buf), KP_EINVAL);
	kp_buf_free(&buf);
}

/* ---- frames from outside ---- */

static void test_refuses_garbage(void)
{
	static const uint8_t junk[] = {0xc1, 0xff, 0x00, 0x13, 0x37};
	static const uint8_t array[] = {0x92, 0x01, 0x02}; /* [1, 2] */
	static const uint8_t text[] = "GET / HTTP/1.1\r\n\r\n";
	struct kp_msg m;
	char err[KP_ERR_MAX];

	err[0] = 0;
	CHECK_INT(kp_wire_decode(junk, sizeof junk, &m, err), KP_EPROTO);
	CHECK(err[0] != 0);
	CHECK_INT(kp_wire_decode(array, sizeof array, &m, err), KP_EPROTO);
	CHECK(strstr(err, "map") != NULL);
	CHECK_INT(kp_wire_decode(text, sizeof text - 1, &m, err), KP_EPROTO);
	CHECK_INT(kp_wire_decode(junk, 0, &m, err), KP_EPROTO);
	CHECK_INT(kp_wire_decode(junk, (size_t)KP_WIRE_MAX + 1, &m, err),
		  KP_EPROTO);
	/* Headers that claim billions of items in five bytes: refused
	 * before msgpack-c would make room for them. */
	CHECK_INT(kp_wire_decode("\xdf\xff\xff\xff\xff", 5, &m, err),
		  KP_EPROTO);
	CHECK(strstr(err, "truncated") != NULL);
	CHECK_INT(kp_wire_decode("\x81\xa1v\xdd\xff\xff\xff\xff", 8, &m, err),
		  KP_EPROTO);
	/* Random bytes: refused or decoded, never a crash (ASan watches). */
	srand(4711);
	for (int i = 0; i < 2000; i++) {
		uint8_t b[64];
		size_t n = 1 + (size_t)rand() % sizeof b;
		for (size_t j = 0; j < n; j++)
			b[j] = (uint8_t)rand();
		if (i % 2)
			b[0] = (uint8_t)(0x80 | (rand() % 16)); /* a map */
		(void)kp_wire_decode(b, n, &m, err);
	}
}

static void test_refuses_truncated(void)
{
	struct kp_msg in, out;
	struct kp_buf buf = {0};
	char err[KP_ERR_MAX];
	int refused = 0;

	s_fill(&in, KP_MSG_SNAP);
	CHECK_INT(kp_wire_encode(&in, &buf), KP_OK);
	for (size_t n = 1; n < buf.len; n++) {
		/* A copy of exactly n bytes, so ASan sees any overread. */
		char *cut = malloc(n);
		memcpy(cut, buf.data, n);
		refused += kp_wire_decode(cut, n, &out, err) == KP_EPROTO;
		free(cut);
	}
	CHECK_INT(refused, buf.len - 1);
	CHECK_INT(kp_wire_decode(buf.data, buf.len - 1, &out, err), KP_EPROTO);
	CHECK(strstr(err, "truncated") != NULL);
	/* Bytes after a whole message are refused too. */
	kp_buf_append(&buf, "x", 1);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &out, err), KP_EPROTO);
	kp_buf_free(&buf);
}

/* A PING map with version v (or no "v" when v < 0). */
static void s_ping(struct kp_buf *buf, int v)
{
	msgpack_packer pk;
	buf->len = 0;
	msgpack_packer_init(&pk, buf, s_write);
	msgpack_pack_map(&pk, v < 0 ? 3 : 4);
	if (v >= 0) {
		s_str(&pk, "v");
		msgpack_pack_int(&pk, v);
	}
	s_str(&pk, "t");
	s_str(&pk, "PING");
	s_str(&pk, "s");
	msgpack_pack_uint64(&pk, 5);
	s_str(&pk, "seq");
	msgpack_pack_uint64(&pk, 6);
}

static void test_wrong_or_missing_version(void)
{
	struct kp_buf buf = {0};
	struct kp_msg m;
	char err[KP_ERR_MAX];

	s_ping(&buf, 1);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &m, err), KP_OK);
	CHECK_INT(m.seq, 6);
	s_ping(&buf, 2);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &m, err), KP_EVERSION);
	CHECK(strstr(err, "version 2") != NULL);
	CHECK(strstr(err, "version 1") != NULL);
	s_ping(&buf, 0);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &m, err), KP_EVERSION);
	s_ping(&buf, -1);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &m, err), KP_EPROTO);
	CHECK(strstr(err, "version") != NULL);
	kp_buf_free(&buf);
}

/* A map of the pairs given as (key, JSON text of the value) through the
 * codec: enough for every field but the bin ones. */
static void s_map(struct kp_buf *buf, const char *json)
{
	json_error_t e;
	json_t *o = json_loads(json, JSON_ALLOW_NUL, &e);
	buf->len = 0;
	if (!o) {
		printf("  bad test JSON: %s\n", e.text);
		return;
	}
	kp_codec_encode(o, buf);
	json_decref(o);
}

static void s_expect(const char *json, int want, const char *in_err)
{
	struct kp_buf buf = {0};
	struct kp_msg m;
	char err[KP_ERR_MAX] = "";
	int rc;
	s_map(&buf, json);
	rc = kp_wire_decode(buf.data, buf.len, &m, err);
	if (rc != want || (in_err && !strstr(err, in_err))) {
		printf("  %s: rc %d, err \"%s\"; expected %d with \"%s\"\n",
		       json, rc, err, want, in_err ? in_err : "");
		check_failed_now = 1;
	}
	kp_buf_free(&buf);
}

static void test_refuses_missing_fields(void)
{
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":1,\"seq\":2}", KP_OK, NULL);
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":1}", KP_EPROTO,
		 "PING lacks the field \"seq\"");
	s_expect("{\"v\":1,\"t\":\"ACK\",\"seq\":2}", KP_EPROTO,
		 "ACK lacks the field \"s\"");
	s_expect("{\"v\":1,\"s\":1,\"seq\":2}", KP_EPROTO, "no type");
	s_expect("{\"v\":1,\"t\":\"HELLO\",\"inc\":\"ab\",\"head\":1,"
		 "\"oldest\":1,\"dseq\":0,\"dat\":0,\"did\":\"\"}",
		 KP_EPROTO, "HELLO lacks the field \"hub\"");
	/* HELLO has no session to echo yet; its s is optional. */
	s_expect("{\"v\":1,\"t\":\"HELLO\",\"hub\":\"fjell\",\"inc\":\"ab\","
		 "\"head\":1,\"oldest\":1,\"dseq\":0,\"dat\":0,\"did\":\"\"}",
		 KP_OK, NULL);
	s_expect("{\"v\":1,\"t\":\"WELCOME\",\"s\":1,\"from\":1,\"cseq\":0,"
		 "\"cat\":0,\"cid\":\"\",\"cinc\":\"x\"}",
		 KP_EPROTO, "WELCOME lacks the field \"mode\"");
	s_expect("{\"v\":1,\"t\":\"REFUSE\"}", KP_EPROTO, "\"reason\"");
	s_expect("{\"v\":1,\"t\":\"CHANGES\",\"s\":1,\"first\":1,\"last\":1,"
		 "\"n\":0}",
		 KP_EPROTO, "CHANGES lacks the field \"e\"");
}

static void test_refuses_wrong_types(void)
{
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":1,\"seq\":\"2\"}", KP_EPROTO,
		 "field \"seq\" of PING");
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":-1,\"seq\":2}", KP_EPROTO,
		 "field \"s\"");
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":1.5,\"seq\":2}", KP_EPROTO,
		 "field \"s\"");
	s_expect("{\"v\":\"1\",\"t\":\"PING\",\"s\":1,\"seq\":2}", KP_EPROTO,
		 "version");
	s_expect("{\"v\":1,\"t\":7,\"s\":1,\"seq\":2}", KP_EPROTO, "type");
	s_expect("{\"v\":1,\"t\":\"SHOUT\",\"s\":1}", KP_EPROTO,
		 "unknown message type \"SHOUT\"");
	s_expect("{\"v\":1,\"t\":\"ACK\",\"s\":1,\"seq\":2,\"gap\":1}",
		 KP_EPROTO, "field \"gap\"");
	s_expect("{\"v\":1,\"t\":\"VERIFY\",\"hub\":\"Fjell!\"}", KP_EPROTO,
		 "field \"hub\"");
	s_expect("{\"v\":1,\"t\":\"VERIFY\",\"hub\":\"\"}", KP_EPROTO,
		 "field \"hub\"");
	s_expect("{\"v\":1,\"t\":\"WELCOME\",\"s\":1,\"mode\":\"sideways\","
		 "\"from\":1,\"cseq\":0,\"cat\":0,\"cid\":\"\",\"cinc\":\"x\"}",
		 KP_EPROTO, "field \"mode\"");
	s_expect("{\"v\":1,\"t\":\"CHANGES\",\"s\":1,\"first\":1,\"last\":1,"
		 "\"n\":1,\"e\":\"not a bin\"}",
		 KP_EPROTO, "field \"e\"");
	s_expect("{\"v\":1,\"t\":\"CHANGES\",\"s\":1,\"first\":1,\"last\":1,"
		 "\"n\":4294967296,\"e\":\"x\"}",
		 KP_EPROTO, "field \"n\"");
}

static void test_refuses_oversized_text(void)
{
	char json[1024], reason[KP_REASON_MAX + 1];
	memset(reason, 'a', sizeof reason - 1);
	reason[sizeof reason - 1] = 0;
	snprintf(json, sizeof json,
		 "{\"v\":1,\"t\":\"REFUSE\",\"reason\":\"%s\"}", reason);
	s_expect(json, KP_EPROTO, "field \"reason\"");
	reason[KP_REASON_MAX - 1] = 0; /* just fits, with its NUL */
	snprintf(json, sizeof json,
		 "{\"v\":1,\"t\":\"REFUSE\",\"reason\":\"%s\"}", reason);
	s_expect(json, KP_OK, NULL);
	s_expect("{\"v\":1,\"t\":\"VERIFY\",\"hub\":"
		 "\"a123456789012345678901234567890123\"}",
		 KP_EPROTO, "field \"hub\"");
	/* A NUL inside a text would cut it short: refused. */
	s_expect("{\"v\":1,\"t\":\"REFUSE\",\"reason\":\"a\\u0000b\"}",
		 KP_EPROTO, "field \"reason\"");
}

static void test_refuses_bad_digest(void)
{
	struct kp_buf buf = {0};
	msgpack_packer pk;
	struct kp_msg m;
	char err[KP_ERR_MAX];
	static const char bytes[15] = {0};

	msgpack_packer_init(&pk, &buf, s_write);
	msgpack_pack_map(&pk, 9);
	s_str(&pk, "v");
	msgpack_pack_int(&pk, 1);
	s_str(&pk, "t");
	s_str(&pk, "SNAP");
	s_str(&pk, "s");
	msgpack_pack_int(&pk, 1);
	s_str(&pk, "inc");
	s_str(&pk, "ab");
	s_str(&pk, "head");
	msgpack_pack_int(&pk, 1);
	s_str(&pk, "n");
	msgpack_pack_int(&pk, 0);
	s_str(&pk, "e");
	msgpack_pack_bin(&pk, 0);
	s_str(&pk, "end");
	msgpack_pack_true(&pk);
	s_str(&pk, "digest");
	msgpack_pack_bin(&pk, sizeof bytes);
	msgpack_pack_bin_body(&pk, bytes, sizeof bytes);
	CHECK_INT(kp_wire_decode(buf.data, buf.len, &m, err), KP_EPROTO);
	CHECK(strstr(err, "digest") != NULL);
	kp_buf_free(&buf);
}

static void test_unknown_fields_skipped(void)
{
	/* A newer peer's extra fields, and fields of other types. */
	s_expect("{\"v\":1,\"t\":\"PING\",\"s\":1,\"seq\":2,"
		 "\"framtid\":{\"nivå\":[1,2,{\"x\":null}]},\"hub\":7,"
		 "\"reason\":[\"ikke\",\"her\"]}",
		 KP_OK, NULL);
}

/* ---- batches ---- */

static void test_batch_walk(void)
{
	struct kp_batch b = {0};
	struct kp_buf e = {0};
	const uint8_t *entry;
	size_t off = 0, len;
	json_t *o;
	int n = 0;

	for (int i = 1; i <= 3; i++) {
		o = json_pack("{sisssss{ss}}", "seq", 100 + i, "op", "put",
			      "id", "fjell:b1", "rec", "org", "Blå Kors");
		e.len = 0;
		CHECK_INT(kp_codec_encode(o, &e), KP_OK);
		CHECK_INT(kp_batch_add(&b, (uint64_t)(100 + i), e.data, e.len),
			  KP_OK);
		json_decref(o);
	}
	CHECK_INT(b.count, 3);
	CHECK_INT(b.first, 101);
	CHECK_INT(b.last, 103);
	CHECK(!kp_batch_full(&b));
	while (kp_wire_next((const uint8_t *)b.buf.data, b.buf.len, &off,
			    &entry, &len) == KP_OK) {
		struct kp_fp fp;
		n++;
		CHECK_INT(len, e.len);
		CHECK_INT(kp_wire_entry_fp(entry, len, &fp), KP_OK);
		CHECK_INT(fp.seq, 100 + n);
	}
	CHECK_INT(n, 3);
	CHECK_INT(off, b.buf.len);
	CHECK_INT(kp_wire_next((const uint8_t *)b.buf.data, b.buf.len, &off,
			       &entry, &len),
		  KP_ENOTFOUND);
	kp_batch_reset(&b);
	CHECK_INT(b.count, 0);
	CHECK_INT(b.buf.len, 0);
	CHECK_INT(b.first, 0);
	off = 0;
	CHECK_INT(
	    kp_wire_next((const uint8_t *)b.buf.data, 0, &off, &entry, &len),
	    KP_ENOTFOUND);
	kp_buf_free(&b.buf);
	kp_buf_free(&e);
}

static void test_batch_walk_refuses_bad_bytes(void)
{
	/* {a: 1}, then an integer where a map must be. */
	static const uint8_t bad[] = {0x81, 0xa1, 'a', 0x01, 0x05};
	/* {a: 1}, then a map cut short. */
	static const uint8_t cut[] = {0x81, 0xa1, 'a', 0x01, 0x82, 0xa1, 'b'};
	const uint8_t *entry;
	size_t off = 0, len;

	CHECK_INT(kp_wire_next(bad, sizeof bad, &off, &entry, &len), KP_OK);
	CHECK_INT(off, 4);
	CHECK_INT(kp_wire_next(bad, sizeof bad, &off, &entry, &len), KP_EPROTO);
	CHECK_INT(off, 4); /* left where the bad entry starts */
	off = 0;
	CHECK_INT(kp_wire_next(cut, sizeof cut, &off, &entry, &len), KP_OK);
	CHECK_INT(kp_wire_next(cut, sizeof cut, &off, &entry, &len), KP_EPROTO);
	CHECK_INT(off, 4);
	/* A map that claims four billion pairs in a five-byte batch. */
	off = 0;
	CHECK_INT(kp_wire_next((const uint8_t *)"\xdf\xff\xff\xff\xff", 5, &off,
			       &entry, &len),
		  KP_EPROTO);
	CHECK_INT(off, 0);
}

static void test_refuses_deep_nesting(void)
{
	/* {"v": [[[[...]]]]} 100 deep: refused, not a stack overflow. */
	uint8_t deep[200];
	struct kp_msg m;
	char err[KP_ERR_MAX];
	size_t n = 0;
	deep[n++] = 0x81;
	deep[n++] = 0xa1;
	deep[n++] = 'v';
	for (int i = 0; i < 100; i++)
		deep[n++] = 0x91;
	deep[n++] = 0x01;
	CHECK_INT(kp_wire_decode(deep, n, &m, err), KP_EPROTO);
	CHECK(strstr(err, "not msgpack") != NULL);
}

static void test_batch_full(void)
{
	struct kp_batch b = {0};
	static const uint8_t one[] = {0x80};
	char *big;

	for (int i = 0; i < KP_BATCH_ENTRIES - 1; i++)
		kp_batch_add(&b, (uint64_t)i + 1, one, sizeof one);
	CHECK(!kp_batch_full(&b));
	kp_batch_add(&b, KP_BATCH_ENTRIES, one, sizeof one);
	CHECK(kp_batch_full(&b));
	kp_batch_reset(&b);
	CHECK(!kp_batch_full(&b));
	big = calloc(1, KP_BATCH_BYTES);
	kp_batch_add(&b, 1, big, KP_BATCH_BYTES);
	CHECK(kp_batch_full(&b));
	CHECK_INT(b.count, 1);
	free(big);
	kp_buf_free(&b.buf);
}

/* ---- fingerprints ---- */

static void test_entry_fingerprint(void)
{
	struct kp_buf e = {0};
	struct kp_fp a, b;
	json_t *o;

	o = json_pack("{sIsssssIs{ss}}", "seq", (json_int_t)77, "op", "put",
		      "id", "assiden:a9", "at", (json_int_t)1796140800, "rec",
		      "title", "Språkkafé");
	kp_codec_encode(o, &e);
	json_decref(o);
	CHECK_INT(kp_wire_entry_fp(e.data, e.len, &a), KP_OK);
	CHECK(s_fp_is(&a, 77, 1796140800, "assiden:a9"));
	CHECK(kp_fp_equal(&a, &a));
	b = a;
	b.at++;
	CHECK(!kp_fp_equal(&a, &b));
	b = a;
	snprintf(b.id, sizeof b.id, "assiden:a10");
	CHECK(!kp_fp_equal(&a, &b));

	/* A tombstone, an instant before 1970, keys in another order. */
	e.len = 0;
	o = json_pack("{sIsssssI}", "at", (json_int_t)-3600, "id", "stromso:b1",
		      "op", "del", "seq", (json_int_t)5);
	kp_codec_encode(o, &e);
	json_decref(o);
	CHECK_INT(kp_wire_entry_fp(e.data, e.len, &a), KP_OK);
	CHECK(s_fp_is(&a, 5, -3600, "stromso:b1"));

	/* No seq, no map, truncated: ECORRUPT. */
	e.len = 0;
	o = json_pack("{ssss}", "op", "del", "id", "stromso:b1");
	kp_codec_encode(o, &e);
	json_decref(o);
	CHECK_INT(kp_wire_entry_fp(e.data, e.len, &a), KP_ECORRUPT);
	CHECK_INT(kp_wire_entry_fp("\x93\x01\x02\x03", 4, &a), KP_ECORRUPT);
	CHECK_INT(kp_wire_entry_fp("\x82\xa3seq", 5, &a), KP_ECORRUPT);
	kp_buf_free(&e);
}

int main(void)
{
	RUN(test_round_trip_hello);
	RUN(test_round_trip_welcome);
	RUN(test_round_trip_refuse_and_diverged);
	RUN(test_round_trip_changes_and_down);
	RUN(test_round_trip_snap_restore_verify);
	RUN(test_round_trip_acks_and_ping);
	RUN(test_round_trip_command);
	RUN(test_every_type_has_a_name);
	RUN(test_encode_refuses_misuse);
	RUN(test_refuses_garbage);
	RUN(test_refuses_truncated);
	RUN(test_wrong_or_missing_version);
	RUN(test_refuses_missing_fields);
	RUN(test_refuses_wrong_types);
	RUN(test_refuses_oversized_text);
	RUN(test_refuses_bad_digest);
	RUN(test_unknown_fields_skipped);
	RUN(test_batch_walk);
	RUN(test_batch_walk_refuses_bad_bytes);
	RUN(test_refuses_deep_nesting);
	RUN(test_batch_full);
	RUN(test_entry_fingerprint);
	return check_done();
}
