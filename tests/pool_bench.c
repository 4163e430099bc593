/*
 * tests/pool_bench.c — how far the block scheduler scales: a fork-join
 * block of W equal tasks of X microseconds each (plus a join task), run on
 * 1 .. N threads, back to back and with a 1 ms gap between blocks (as with
 * a real audio period: idle workers have gone to sleep and must be woken),
 * and with that gap but workers spinning through it (pool_set_spin);
 * then the cost of an empty block (a plan of one no-op task).  Prints
 * markdown tables.  Nothing here asserts a timing.
 *
 * Usage: pool_bench [W [X_us [N [blocks [rt_priority]]]]]
 * (defaults 16 20 nproc 2000 0).  With rt_priority > 0 the calling thread
 * and the workers ask for SCHED_FIFO at that priority.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

/* What every task of the bench is told. */
struct bench {
	unsigned width;             /* tasks width .. are the join */
	uint64_t cost_ns;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A fork task spins for cost_ns; the join task does nothing. */
static void
bench_task(void *ctx, unsigned task)
{
	const struct bench *b = ctx;
	uint64_t until;

	if (task >= b->width)
		return;
	until = now_ns() + b->cost_ns;
	while (now_ns() < until)
		;
}

/* For qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted samples. */
static uint64_t
quantile(const uint64_t *v, unsigned n, double q)
{
	unsigned i = (unsigned)(q * (n - 1) + 0.5);
	return v[i];
}

/* Time `blocks` runs of plan on p, sleeping gap_us between them; sorts
 * and returns the samples in ns. */
static void
bench_run(struct pool *p, struct pool_plan *plan, void *ctx, uint64_t *t,
    unsigned blocks, unsigned gap_us)
{
	struct timespec gap = { 0, (long)gap_us * 1000 };
	uint64_t t0;
	unsigned i;

	for (i = 0; i < blocks / 10 + 1; i++)   /* warm up */
		pool_run(p, plan, ctx);
	for (i = 0; i < blocks; i++) {
		if (gap_us)
			nanosleep(&gap, NULL);
		t0 = now_ns();
		pool_run(p, plan, ctx);
		t[i] = now_ns() - t0;
	}
	qsort(t, blocks, sizeof *t, cmp_u64);
}

int
main(int argc, char **argv)
{
	unsigned width = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
	unsigned cost_us = argc > 2 ? (unsigned)atoi(argv[2]) : 20;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned max_threads = argc > 3 ? (unsigned)atoi(argv[3]) :
	    (unsigned)(cpus > 0 ? cpus : 1);
	unsigned blocks = argc > 4 ? (unsigned)atoi(argv[4]) : 2000;
	int prio = argc > 5 ? atoi(argv[5]) : 0;
	const char *sched = "SCHED_OTHER";
	unsigned gap_blocks, empty_runs = 50 * blocks, i, th;
	struct bench b = { width, (uint64_t)cost_us * 1000 }, none = { 0, 0 };
	struct pool_edge *edges;
	struct pool_plan *fork, *empty;
	uint64_t *t, base = 0, base_gap = 0, base_hot = 0;
	struct pool *p;

	if (width == 0 || max_threads == 0 || max_threads > POOL_MAX_THREADS ||
	    blocks == 0)
		fatal("usage: pool_bench [W [X_us [N [blocks]]]]");
	gap_blocks = blocks / 4 + 1;
	if (prio > 0) {
		struct sched_param sp = { .sched_priority = prio };
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0)
			sched = "SCHED_FIFO";
		else
			warn("no SCHED_FIFO for the engine thread");
	}
	edges = xcalloc(width, sizeof *edges);
	for (i = 0; i < width; i++)
		edges[i] = (struct pool_edge){ i, width };
	fork = pool_plan_create(width + 1, edges, width, bench_task);
	empty = pool_plan_create(1, NULL, 0, bench_task);
	t = xcalloc(empty_runs, sizeof *t);

	printf("## Block scheduler: fork-join of %u tasks x %u us "
	    "(%ld CPUs online, %s)\n\n", width, cost_us, cpus, sched);
	printf("| threads | back to back: median us | speedup | p99 us "
	    "| 1 ms gap: median us | speedup | p99 us "
	    "| gap, spinning: median us | speedup | p99 us |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|\n");
	for (th = 1; th <= max_threads; th++) {
		uint64_t med, p99, med_gap, p99_gap, med_hot, p99_hot;

		p = pool_create(th, width + 1, prio, NULL);
		if (pool_rt_error(p) && th == 2)
			warn("workers run without SCHED_FIFO: %s",
			    strerror(pool_rt_error(p)));
		bench_run(p, fork, &b, t, blocks, 0);
		med = quantile(t, blocks, 0.5);
		p99 = quantile(t, blocks, 0.99);
		bench_run(p, fork, &b, t, gap_blocks, 1000);
		med_gap = quantile(t, gap_blocks, 0.5);
		p99_gap = quantile(t, gap_blocks, 0.99);
		pool_set_spin(p, 2000000);
		bench_run(p, fork, &b, t, gap_blocks, 1000);
		med_hot = quantile(t, gap_blocks, 0.5);
		p99_hot = quantile(t, gap_blocks, 0.99);
		if (th == 1) {
			base = med;
			base_gap = med_gap;
			base_hot = med_hot;
		}
		printf("| %u | %.1f | %.2f | %.1f | %.1f | %.2f | %.1f "
		    "| %.1f | %.2f | %.1f |\n", th,
		    med / 1e3, (double)base / (double)med, p99 / 1e3,
		    med_gap / 1e3, (double)base_gap / (double)med_gap,
		    p99_gap / 1e3,
		    med_hot / 1e3, (double)base_hot / (double)med_hot,
		    p99_hot / 1e3);
		pool_destroy(p);
	}

	printf("\n## Empty block: pool_run of one no-op task, %u runs "
	    "(clock read included)\n\n", empty_runs);
	printf("| threads | p50 ns | p99 ns | max ns |\n|---|---|---|---|\n");
	for (th = 1; th <= max_threads; th++) {
		p = pool_create(th, 1, prio, NULL);
		bench_run(p, empty, &none, t, empty_runs, 0);
		printf("| %u | %llu | %llu | %llu |\n", th,
		    (unsigned long long)quantile(t, empty_runs, 0.5),
		    (unsigned long long)quantile(t, empty_runs, 0.99),
		    (unsigned long long)t[empty_runs - 1]);
		pool_destroy(p);
	}

	pool_plan_free(fork);
	pool_plan_free(empty);
	free(edges);
	free(t);
	return 0;
}
