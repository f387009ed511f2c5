/*
 * knute/error.h - the one error convention of knutepunkt.
 *
 * 0 is success; every failure is a negative KP_E* code. kp_strerror() gives
 * a sentence for any code. Foreign codes (LMDB, errno, msgpack, zmq) are
 * translated at the module that meets them and never leave it.
 */
#ifndef KNUTE_ERROR_H
#define KNUTE_ERROR_H

enum kp_error {
	KP_OK = 0,
	KP_EINVAL = -1,	   /* bad input: the caller's message says which */
	KP_ENOTFOUND = -2, /* no such record or key */
	KP_ECLASH = -3,	   /* a booking overlaps another, or the room is shut */
	KP_ENOMEM = -4,	   /* out of memory */
	KP_EIO = -5,	   /* disk or file system failure */
	KP_EFULL = -6,	   /* the store's map or the disk is full */
	KP_EREADONLY = -7, /* the data directory cannot be written */
	KP_ENOINIT = -8,   /* the data directory holds no knutepunkt store */
	KP_EEXIST = -9,	   /* the thing to create exists already */
	KP_ECORRUPT = -10, /* stored or received bytes do not decode */
	KP_EPOLICE = -11,  /* police certificate required but not shown */
	KP_EBUSY = -12,	   /* the store is locked or in use */
	KP_EVERSION = -13, /* store or protocol version not understood */
	KP_EINTERNAL = -14, /* a bug of ours */
	KP_EPROTO = -15,    /* a peer's message breaks the protocol */
	KP_EUNREACH = -16,  /* the other node did not answer in time */
};

/* A static sentence for code; never NULL. */
const char *kp_strerror(int code);

/* The command-line exit code for code (DESIGN.md section 8): 0, 2 bad
 * input, 3 clash, 4 not found, 1 anything else. */
int kp_exit_code(int code);

#endif
