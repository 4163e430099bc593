/*
 * src/futex.c — shared futex wait/wake on a 32-bit atomic word, with an
 * absolute CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET without
 * FUTEX_CLOCK_REALTIME).
 */
#define _GNU_SOURCE  /* syscall() */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futex.h"

/* The kernel sees a plain u32: the atomic type must have the same layout. */
_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t),
    "_Atomic uint32_t must be 4 bytes");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
    "32-bit atomics must be lock-free (address-free) for shared memory");

/* 32-bit ABIs with a 64-bit time_t need the time64 variant of the call. */
#if defined(SYS_futex_time64) && __SIZEOF_POINTER__ == 4
#define FS_SYS_FUTEX (sizeof(time_t) > sizeof(long) ? SYS_futex_time64 : SYS_futex)
#else
#define FS_SYS_FUTEX SYS_futex
#endif

int
futex_wait(_Atomic uint32_t *addr, uint32_t expected,
    const struct timespec *abs_deadline)
{
	long rc;

	/* No FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	rc = syscall(FS_SYS_FUTEX, (uint32_t *)addr, FUTEX_WAIT_BITSET,
	    expected, abs_deadline, NULL, FUTEX_BITSET_MATCH_ANY);
	if (rc == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return EAGAIN;
	return errno;
}

int
futex_wake(_Atomic uint32_t *addr, int n)
{
	long rc;

	rc = syscall(FS_SYS_FUTEX, (uint32_t *)addr, FUTEX_WAKE, n, NULL,
	    NULL, 0);
	return rc < 0 ? -errno : (int)rc;
}

void
futex_deadline_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
}

uint64_t
futex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
