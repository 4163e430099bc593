/*
 * src/futex.h — thin wrappers over the Linux futex syscall for SHARED
 * (non-private) futexes: the word may live in memory mapped by two
 * processes.  No allocation, no locks; one syscall per call.  Safe on the
 * real-time path in the sense that they never allocate or print; a wait
 * obviously blocks.
 */
#ifndef FORKSYNTH_FUTEX_H
#define FORKSYNTH_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Pass to futex_wake() to wake every waiter. */
#define FUTEX_WAKE_ALL 0x7fffffff

/*
 * Sleep while *addr == expected, until woken or until the absolute
 * CLOCK_MONOTONIC time abs_deadline (NULL: no deadline).  Returns 0 when
 * woken (possibly spuriously: always re-check the condition), EAGAIN when
 * *addr != expected on entry, ETIMEDOUT when the deadline passed, EINTR on
 * a signal; any other value is an errno from the kernel (EFAULT, EINVAL).
 */
int futex_wait(_Atomic uint32_t *addr, uint32_t expected,
    const struct timespec *abs_deadline);

/*
 * Wake up to n waiters sleeping on addr (FUTEX_WAKE_ALL for all).  Returns
 * the number woken (>= 0), or -errno.
 */
int futex_wake(_Atomic uint32_t *addr, int n);

/* Fill *ts with "now + ns nanoseconds" on CLOCK_MONOTONIC (vDSO, no syscall). */
void futex_deadline_after(struct timespec *ts, uint64_t ns);

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t futex_now_ns(void);

#endif
