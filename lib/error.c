/* error.c - sentences and exit codes for the KP_E* codes. */
#include "knute/error.h"

const char *kp_strerror(int code)
{
	switch (code) {
	case KP_OK:
		return "success";
	case KP_EINVAL:
		return "invalid input";
	case KP_ENOTFOUND:
		return "not found";
	case KP_ECLASH:
		return "the time clashes with another booking or the room's "
		       "hours";
	case KP_ENOMEM:
		return "out of memory";
	case KP_EIO:
		return "input/output error on the data directory";
	case KP_EFULL:
		return "the store or the disk is full";
	case KP_EREADONLY:
		return "the data directory is read-only";
	case KP_ENOINIT:
		return "no knutepunkt store here (run 'knute init')";
	case KP_EEXIST:
		return "it exists already";
	case KP_ECORRUPT:
		return "stored data does not decode";
	case KP_EPOLICE:
		return "a police certificate is required but has not been "
		       "shown";
	case KP_EBUSY:
		return "the store is busy";
	case KP_EVERSION:
		return "unsupported version";
	case KP_EINTERNAL:
		return "internal error";
	case KP_EPROTO:
		return "a message that breaks the sync protocol";
	case KP_EUNREACH:
		return "the other node did not answer";
	}
	return "unknown error";
}

int kp_exit_code(int code)
{
	switch (code) {
	case KP_OK:
		return 0;
	case KP_EINVAL:
	case KP_EEXIST:
	case KP_EPOLICE:
		return 2;
	case KP_ECLASH:
		return 3;
	case KP_ENOTFOUND:
		return 4;
	default:
		return 1;
	}
}
