/*
 * kp_inject.c - write a change into a hub's store that the command line
 * would refuse, through the store itself, so the sync tests can see what
 * central does with an entry it must refuse.
 *
 *   kp_inject DIR bad-booking     a booking without its room
 *
 * Prints the id written; exits 0 on success.
 */
#include <stdio.h>
#include <string.h>

#include "knute/error.h"
#include "knute/store.h"

static int s_bad_booking(kp_txn *txn, void *arg)
{
	struct kp_id *id = arg;
	json_t *rec = json_pack("{sssssIsI}", "org", "Røde Kors", "status",
				"confirmed", "start", (json_int_t)1796317200,
				"end", (json_int_t)1796324400);
	int rc;
	if (!rec)
		return KP_ENOMEM;
	if (!(rc = kp_txn_new_id(txn, KP_BOOKING, id)))
		rc = kp_txn_put(txn, id, rec);
	json_decref(rec);
	return rc;
}

int main(int argc, char **argv)
{
	char text[KP_ID_STRLEN];
	struct kp_id id;
	kp_store *store;
	int rc;

	if (argc != 3 || strcmp(argv[2], "bad-booking")) {
		fprintf(stderr, "usage: kp_inject DIR bad-booking\n");
		return 2;
	}
	if ((rc = kp_store_open(argv[1], &store))) {
		fprintf(stderr, "kp_inject: %s: %s\n", argv[1],
			kp_strerror(rc));
		return 1;
	}
	rc = kp_store_write(store, s_bad_booking, &id);
	kp_store_close(&store);
	if (rc) {
		fprintf(stderr, "kp_inject: %s\n", kp_strerror(rc));
		return 1;
	}
	kp_id_format(&id, text);
	printf("%s\n", text);
	return 0;
}
