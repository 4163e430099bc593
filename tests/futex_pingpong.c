/*
 * tests/futex_pingpong.c — what one cross-process wake-up costs: two
 * processes bounce a counter through two futex words in a shared mapping,
 * as the JACK callback and the DSP child will each cycle.  Prints p50, p99,
 * p99.9 and max round-trip time in nanoseconds for two variants:
 *   futex  the waiter always sleeps in futex_wait, the waker always calls
 *          futex_wake (the raw cost: two wake-ups per round trip);
 *   spin   the waiter polls for a bounded window first and sleeps only
 *          after it; the waker calls futex_wake only if the waiter flagged
 *          itself asleep (the protocol of DESIGN.md section 3).
 * A benchmark for `make bench`: it reports, never asserts.  Exit status 0.
 *
 * The spin variant runs with a 20 us and a 200 us window (or the one given):
 * a window shorter than the wake-up latency of a sleeping CPU tends to
 * cascade into sleeping on both sides, which the figures show.
 *
 *   futex_pingpong [round-trips] [spin-ns]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "futex.h"
#include "log.h"
#include "shm.h"

#define WARMUP 10000 /* round trips not recorded */

/* One direction of the ping-pong: a futex word and a sleeper flag, own line. */
struct chan {
	_Atomic uint32_t word;     /* futex word: the last counter value sent */
	_Atomic uint32_t sleeping; /* 1 while the reader may be in futex_wait */
	uint32_t pad[14];
};

/* The shared page: ping (parent -> child) and pong (child -> parent). */
struct pp {
	struct chan ping;
	struct chan pong;
	_Atomic uint64_t child_sleeps; /* times the child really slept */
};

static uint64_t spin_ns = 20000;  /* bounded spin of the "spin" variant */

/* Send v on c: publish it, and wake the reader if needed. */
static void
chan_send(struct chan *c, uint32_t v, int spin)
{
	atomic_store_explicit(&c->word, v, memory_order_seq_cst);
	if (!spin || atomic_load_explicit(&c->sleeping, memory_order_seq_cst))
		futex_wake(&c->word, 1);
}

/* Wait until c carries v; returns 1 if it had to sleep. */
static int
chan_recv(struct chan *c, uint32_t v, int spin)
{
	uint64_t until;
	uint32_t cur;
	int slept = 0, rc;

	if (spin) {
		until = futex_now_ns() + spin_ns;
		do {
			for (int i = 0; i < 64; i++) {
				if (atomic_load_explicit(&c->word,
				    memory_order_acquire) == v)
					return 0;
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
			}
		} while (futex_now_ns() < until);
	}
	for (;;) {
		atomic_store_explicit(&c->sleeping, 1, memory_order_seq_cst);
		cur = atomic_load_explicit(&c->word, memory_order_seq_cst);
		if (cur == v)
			break;
		rc = futex_wait(&c->word, cur, NULL);
		slept = 1;
		if (rc != 0 && rc != EAGAIN && rc != EINTR)
			fatal("futex_wait: %s", strerror(rc));
	}
	atomic_store_explicit(&c->sleeping, 0, memory_order_relaxed);
	return slept;
}

/* Order two uint64_t for qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Run n round trips of one variant and print its percentiles. */
static void
run(const char *name, int spin, unsigned n)
{
	struct shm s;
	struct pp *pp;
	uint64_t *rt, t0, slept = 0;
	unsigned i, total = n + WARMUP;
	pid_t pid;
	int st;

	if (shm_create(&s, 4096, 0) != 0)
		fatal("%s", s.error);
	pp = s.base;
	rt = xcalloc(n, sizeof *rt);
	pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		uint64_t cs = 0;
		for (i = 1; i <= total; i++) {
			cs += (uint64_t)chan_recv(&pp->ping, i, spin);
			chan_send(&pp->pong, i, spin);
		}
		atomic_store(&pp->child_sleeps, cs);
		_exit(0);
	}
	for (i = 1; i <= total; i++) {
		t0 = futex_now_ns();
		chan_send(&pp->ping, i, spin);
		slept += (uint64_t)chan_recv(&pp->pong, i, spin);
		if (i > WARMUP)
			rt[i - WARMUP - 1] = futex_now_ns() - t0;
	}
	waitpid(pid, &st, 0);
	qsort(rt, n, sizeof *rt, cmp_u64);
	printf("%-6s n=%u  p50 %6" PRIu64 " ns  p99 %7" PRIu64 " ns  "
	    "p99.9 %7" PRIu64 " ns  max %8" PRIu64 " ns  (sleeps: parent %"
	    PRIu64 ", child %" PRIu64 ")\n", name, n, rt[n / 2],
	    rt[(size_t)((double)n * 0.99)], rt[(size_t)((double)n * 0.999)],
	    rt[n - 1], slept, atomic_load(&pp->child_sleeps));
	free(rt);
	shm_close(&s);
}

int
main(int argc, char **argv)
{
	static const uint64_t windows[] = { 20000, 200000 };
	unsigned n = 100000, k, nwin = 2;

	if (argc > 1)
		n = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		nwin = 0;
	if (n < 1000)
		n = 1000;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("cross-process futex ping-pong, %u round trips after %d warm-up, "
	    "%ld CPUs online\n", n, WARMUP, sysconf(_SC_NPROCESSORS_ONLN));
	run("futex", 0, n);
	for (k = 0; k < (nwin ? nwin : 1); k++) {
		spin_ns = nwin ? windows[k] : strtoull(argv[2], NULL, 10);
		printf("(spin: bounded spin of %" PRIu64 " ns before sleeping, "
		    "wake only a sleeper)\n", spin_ns);
		run("spin", 1, n);
	}
	return 0;
}
