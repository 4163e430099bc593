/*
 * tests/pool_dag_test.c — the block scheduler by property: on random task
 * DAGs (1 to 500 tasks: random densities, chains, wide fans, layered
 * diamonds, sparse, single tasks, no edges at all), every task starts only
 * after all its predecessors have finished, runs exactly once per block, the
 * outputs are bit-identical to a serial run in topological order, for 1 to
 * 4 threads and many blocks per plan.  Then tasks that take a few
 * microseconds (so that threads overlap), blocks with gaps between them
 * (workers asleep, woken ahead by a timer, or spinning), plans interleaved
 * block by block,
 * a 65536-task plan, and the plans pool_plan_create must refuse.
 *
 * Usage: pool_dag_test [dags [blocks]]   (defaults 300 and 50; smaller
 * numbers for sanitizer builds).  Prints totals; exit 0 on success.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

#define MAX_THREADS 4
#define BIG_TASKS 65536
/* A block that has not returned after this many seconds is a hang. */
#define WATCHDOG_SECONDS 20

/* A generated DAG and what the checks need to know about it. */
struct dag {
	unsigned n;
	struct pool_edge *edges;
	size_t n_edges;
	uint32_t *pred_off;         /* [n + 1] */
	uint32_t *pred;             /* predecessors of t, sorted by index */
	uint32_t *topo;             /* [n]: a serial order */
	struct pool_plan *plan;
};

/* What the tasks of one block share (the ctx of pool_run). */
struct job {
	const struct dag *d;
	uint64_t seed;              /* changes every block */
	uint64_t *out;              /* [n]: each task writes its own */
	_Atomic int *done;          /* [n]: 0 before the task ran, 1 after */
	_Atomic unsigned long violations;
	unsigned work_ns;           /* busy time of each task */
};

static uint64_t rng_state;
static unsigned long failures;

/* splitmix64: the generator, and the hash that tasks compute. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

static uint64_t
rnd(void)
{
	return mix(rng_state++);
}

/* Uniform in [0, n). */
static unsigned
rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Task t's value: a hash of the block seed, t and its predecessors'
 * values in index order (what the threaded and serial runs both compute). */
static uint64_t
task_value(const struct job *j, unsigned t)
{
	const struct dag *d = j->d;
	uint64_t h = mix(j->seed ^ (uint64_t)t << 32);
	uint32_t k;

	for (k = d->pred_off[t]; k < d->pred_off[t + 1]; k++)
		h = mix(h ^ j->out[d->pred[k]]);
	return h;
}

/* The task run by the pool: check order, compute, spin, publish. */
static void
task_run(void *ctx, unsigned t)
{
	struct job *j = ctx;
	const struct dag *d = j->d;
	uint64_t h, until;
	uint32_t k;

	if (atomic_load_explicit(&j->done[t], memory_order_acquire))
		atomic_fetch_add(&j->violations, 1);    /* ran twice */
	/* out[] is read plainly first, so that only the scheduler's ordering
	 * makes it safe (TSan sees it); then the done flags check it. */
	h = task_value(j, t);
	for (k = d->pred_off[t]; k < d->pred_off[t + 1]; k++)
		if (!atomic_load_explicit(&j->done[d->pred[k]],
		    memory_order_acquire))
			atomic_fetch_add(&j->violations, 1);
	if (j->work_ns) {
		until = now_ns() + j->work_ns;
		while (now_ns() < until)
			;
	}
	j->out[t] = h;
	atomic_store_explicit(&j->done[t], 1, memory_order_release);
}

/* SIGALRM: a pool_run never returned. */
static void
watchdog_fire(int sig)
{
	static const char msg[] = "FAIL: pool_run hangs (a task never ran)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Add edge a -> b. */
static void
dag_edge(struct dag *d, size_t *cap, unsigned a, unsigned b)
{
	if (d->n_edges == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		d->edges = realloc(d->edges, *cap * sizeof *d->edges);
		if (d->edges == NULL)
			fatal("out of memory");
	}
	d->edges[d->n_edges++] = (struct pool_edge){ a, b };
}

/* Compare for qsort. */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Fill the predecessor lists and a serial order (Kahn), make the plan. */
static void
dag_finish(struct dag *d)
{
	uint32_t *fill = xcalloc(d->n + 1, sizeof *fill);
	uint32_t *left = xcalloc(d->n + 1, sizeof *left);
	uint32_t *succ_off = xcalloc(d->n + 2, sizeof *succ_off);
	uint32_t *succ = xcalloc(d->n_edges + 1, sizeof *succ);
	unsigned i, done = 0, t;
	uint32_t k;
	size_t e;

	d->pred_off = xcalloc(d->n + 1, sizeof *d->pred_off);
	d->pred = xcalloc(d->n_edges + 1, sizeof *d->pred);
	d->topo = xcalloc(d->n, sizeof *d->topo);
	for (e = 0; e < d->n_edges; e++) {
		d->pred_off[d->edges[e].to + 1]++;
		succ_off[d->edges[e].from + 1]++;
	}
	for (i = 0; i < d->n; i++) {
		d->pred_off[i + 1] += d->pred_off[i];
		succ_off[i + 1] += succ_off[i];
	}
	memcpy(fill, d->pred_off, d->n * sizeof *fill);
	for (e = 0; e < d->n_edges; e++)
		d->pred[fill[d->edges[e].to]++] = d->edges[e].from;
	memcpy(fill, succ_off, d->n * sizeof *fill);
	for (e = 0; e < d->n_edges; e++)
		succ[fill[d->edges[e].from]++] = d->edges[e].to;
	for (i = 0; i < d->n; i++) {
		qsort(d->pred + d->pred_off[i], d->pred_off[i + 1] -
		    d->pred_off[i], sizeof *d->pred, cmp_u32);
		left[i] = d->pred_off[i + 1] - d->pred_off[i];
		if (left[i] == 0)
			d->topo[done++] = i;
	}
	for (i = 0; i < done; i++) {
		t = d->topo[i];
		for (k = succ_off[t]; k < succ_off[t + 1]; k++)
			if (--left[succ[k]] == 0)
				d->topo[done++] = succ[k];
	}
	if (done != d->n)
		fatal("test bug: generated graph has a cycle");
	d->plan = pool_plan_create(d->n, d->edges, d->n_edges, task_run);
	if (d->plan == NULL) {
		printf("FAIL: pool_plan_create refused an acyclic graph\n");
		failures++;
	}
	free(fill);
	free(left);
	free(succ_off);
	free(succ);
}

/*
 * A random DAG of about `n` tasks, of shape `shape`.  Edges are drawn
 * from low to high rank, and ranks are mapped to task indices by a random
 * permutation, so that index order is not a topological order.
 */
static void
dag_make(struct dag *d, unsigned shape, unsigned n, double density)
{
	unsigned *perm, i, j, k, w;
	size_t cap = 0;

	memset(d, 0, sizeof *d);
	if (shape == 4)
		n = 1;
	d->n = n;
	perm = xcalloc(n, sizeof *perm);
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = rnd_below(i + 1);
		k = perm[i], perm[i] = perm[j], perm[j] = k;
	}
	switch (shape) {
	case 0:         /* random, given density */
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if ((double)(rnd() >> 11) * 0x1p-53 < density)
					dag_edge(d, &cap, perm[i], perm[j]);
		break;
	case 1:         /* chain */
		for (i = 0; i + 1 < n; i++)
			dag_edge(d, &cap, perm[i], perm[i + 1]);
		break;
	case 2:         /* wide fan: one source, n - 2 middles, one sink */
		for (i = 1; i + 1 < n; i++) {
			dag_edge(d, &cap, perm[0], perm[i]);
			dag_edge(d, &cap, perm[i], perm[n - 1]);
		}
		if (n == 2)
			dag_edge(d, &cap, perm[0], perm[1]);
		break;
	case 3:         /* layered diamonds, some edges doubled */
		w = 1 + rnd_below(16);
		for (i = w; i < n; i++) {
			unsigned layer = i / w, fan = 1 + rnd_below(3);
			for (k = 0; k < fan; k++) {
				j = (layer - 1) * w + rnd_below(w);
				dag_edge(d, &cap, perm[j], perm[i]);
				if (rnd_below(8) == 0)
					dag_edge(d, &cap, perm[j], perm[i]);
			}
		}
		break;
	case 6:         /* sparse: up to 3 random earlier predecessors */
		for (i = 1; i < n; i++)
			for (k = rnd_below(4); k > 0; k--)
				dag_edge(d, &cap, perm[rnd_below(i)], perm[i]);
		break;
	default:        /* single task, or independent tasks */
		break;
	}
	free(perm);
	dag_finish(d);
}

static void
dag_free(struct dag *d)
{
	pool_plan_free(d->plan);
	free(d->edges);
	free(d->pred_off);
	free(d->pred);
	free(d->topo);
}

/* Run one block of `d` on the pool and check it; returns tasks run. */
static unsigned long
block_check(struct pool *p, const struct dag *d, struct job *j,
    uint64_t *ref, uint64_t seed)
{
	unsigned i;

	j->d = d;
	j->seed = seed;
	for (i = 0; i < d->n; i++)
		atomic_store_explicit(&j->done[i], 0, memory_order_relaxed);
	atomic_store(&j->violations, 0);
	alarm(WATCHDOG_SECONDS);
	if (pool_run(p, d->plan, j) != 0) {
		printf("FAIL: pool_run refused a plan of %u tasks\n", d->n);
		failures++;
		return 0;
	}
	/* The serial reference, in topological order. */
	{
		struct job r = { .d = d, .seed = seed, .out = ref };
		for (i = 0; i < d->n; i++)
			ref[d->topo[i]] = task_value(&r, d->topo[i]);
	}
	for (i = 0; i < d->n; i++)
		if (!atomic_load(&j->done[i]))
			break;
	if (i < d->n || atomic_load(&j->violations) != 0 ||
	    memcmp(ref, j->out, d->n * sizeof *ref) != 0) {
		if (failures++ < 10)
			printf("FAIL: %u tasks, %zu edges, %u threads: %s, "
			    "%lu order violations\n", d->n, d->n_edges,
			    pool_threads(p), i < d->n ? "a task did not run" :
			    "outputs differ or order broken",
			    atomic_load(&j->violations));
	}
	return d->n;
}

/* Plans pool_plan_create must refuse, and the edge cases of pool_run. */
static void
check_refusals(struct pool *p)
{
	struct pool_edge loop2[] = { { 0, 1 }, { 1, 0 } };
	struct pool_edge self[] = { { 0, 1 }, { 1, 1 } };
	struct pool_edge range[] = { { 0, 3 } };
	struct pool_edge loop3[] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 1 } };
	struct pool_plan *pl;

	if (pool_plan_create(2, loop2, 2, task_run) != NULL ||
	    pool_plan_create(2, self, 2, task_run) != NULL ||
	    pool_plan_create(3, range, 1, task_run) != NULL ||
	    pool_plan_create(4, loop3, 4, task_run) != NULL ||
	    pool_plan_create(POOL_MAX_TASKS + 1, NULL, 0, task_run) != NULL) {
		printf("FAIL: a cyclic or invalid plan was accepted\n");
		failures++;
	}
	pl = pool_plan_create(0, NULL, 0, task_run);
	if (pl == NULL || pool_run(p, pl, NULL) != 0) {
		printf("FAIL: the empty plan\n");
		failures++;
	}
	pool_plan_free(pl);
	pl = pool_plan_create(BIG_TASKS + 1, NULL, 0, task_run);
	if (pl == NULL || pool_run(p, pl, NULL) != -1) {
		printf("FAIL: a plan larger than the pool was run\n");
		failures++;
	}
	pool_plan_free(pl);
}

int
main(int argc, char **argv)
{
	static const double densities[] = { 0.0, 0.002, 0.01, 0.05, 0.3 };
	unsigned n_dags = argc > 1 ? (unsigned)atoi(argv[1]) : 300;
	unsigned blocks = argc > 2 ? (unsigned)atoi(argv[2]) : 50;
	unsigned long tasks_run = 0, blocks_run = 0, stats_tasks;
	unsigned threads, i, b, th, n_dag_total = 0;
	struct job j = { 0 };
	uint64_t *ref, t0 = now_ns();
	struct dag d, mixed[8], big;
	struct pool *p;

	signal(SIGALRM, watchdog_fire);
	setvbuf(stdout, NULL, _IOLBF, 0);
	j.out = xcalloc(BIG_TASKS, sizeof *j.out);
	j.done = xcalloc(BIG_TASKS, sizeof *j.done);
	ref = xcalloc(BIG_TASKS, sizeof *ref);

	for (threads = 1; threads <= MAX_THREADS; threads++) {
		unsigned long before = tasks_run;

		p = pool_create(threads, BIG_TASKS, 0, NULL);
		check_refusals(p);

		/* Many shapes, many blocks each. */
		for (i = 0; i < n_dags; i++) {
			rng_state = i * 7919u + 1;
			dag_make(&d, i % 7, 1 + rnd_below(500),
			    densities[(i / 7) % 5]);
			for (b = 0; b < blocks && d.plan; b++)
				tasks_run += block_check(p, &d, &j, ref,
				    mix(i * 1000003u + b));
			blocks_run += b;
			n_dag_total++;
			dag_free(&d);
		}

		/* Tasks of 2-5 us, so threads really overlap. */
		for (i = 0; i < 12; i++) {
			rng_state = 424242u + i;
			dag_make(&d, i % 4, 50 + rnd_below(150), 0.02);
			j.work_ns = 2000 + rnd_below(3000);
			for (b = 0; b < 8 && d.plan; b++)
				tasks_run += block_check(p, &d, &j, ref,
				    mix(b + 77));
			blocks_run += b;
			j.work_ns = 0;
			n_dag_total++;
			dag_free(&d);
		}

		/* Gaps between blocks, as periods have: workers asleep, woken
		 * by work; woken by a timer ahead of the block (set before,
		 * inside and long after the gap); and spinning through it. */
		for (i = 0; i < 8; i++) {
			struct timespec gap = { 0, 200000 };
			rng_state = 5150u + i;
			dag_make(&d, i % 4, 20 + rnd_below(100), 0.05);
			j.work_ns = 1000 + rnd_below(2000);
			for (b = 0; b < 12 && d.plan; b++) {
				uint64_t now = now_ns();
				switch ((i + b) % 4) {
				case 0: pool_set_wake_at(p, 0, 0); break;
				case 1: pool_set_wake_at(p, now + 150000, 200000); break;
				case 2: pool_set_wake_at(p, now - 1000, 50000); break;
				case 3: pool_set_wake_at(p, now + 5000000000ull,
				    100000); break;
				}
				nanosleep(&gap, NULL);
				tasks_run += block_check(p, &d, &j, ref,
				    mix(b + 31));
			}
			blocks_run += b;
			j.work_ns = 0;
			n_dag_total++;
			dag_free(&d);
		}
		pool_set_wake_at(p, 0, 0);

		/* Plans interleaved block by block (tiny ones included). */
		for (i = 0; i < 8; i++) {
			rng_state = 99u + i;
			dag_make(&mixed[i], i % 6, 1 + rnd_below(i < 4 ? 4 :
			    300), 0.05);
		}
		for (b = 0; b < 20 * blocks; b++) {
			struct dag *m = &mixed[rnd_below(8)];
			if (m->plan)
				tasks_run += block_check(p, m, &j, ref, b);
			blocks_run++;
		}
		for (i = 0; i < 8; i++)
			dag_free(&mixed[i]);
		n_dag_total += 8;

		/* The biggest plan the pool takes. */
		rng_state = 31337;
		dag_make(&big, 6, BIG_TASKS, 0);
		for (b = 0; b < 3 && big.plan; b++)
			tasks_run += block_check(p, &big, &j, ref, b);
		blocks_run += b;
		n_dag_total++;
		dag_free(&big);

		/* The stats count every task and name none after the run. */
		stats_tasks = 0;
		for (th = 0; th < threads; th++) {
			struct pool_stats s = pool_stats(p, th);
			stats_tasks += s.tasks;
			if (s.task != -1) {
				printf("FAIL: thread %u still names task %d\n",
				    th, s.task);
				failures++;
			}
		}
		if (stats_tasks != tasks_run - before) {
			printf("FAIL: stats count %lu tasks, %lu ran\n",
			    stats_tasks, tasks_run - before);
			failures++;
		}
		printf("%u thread%s: %lu tasks, spread", threads,
		    threads > 1 ? "s" : " ", tasks_run - before);
		for (th = 0; th < threads; th++)
			printf(" %.0f%%", 100.0 * (double)pool_stats(p, th).tasks /
			    (double)(tasks_run - before));
		printf("\n");
		pool_destroy(p);
	}

	printf("%u DAGs, %lu blocks, %lu tasks checked on 1-%d threads in "
	    "%.1f s: %s\n", n_dag_total, blocks_run, tasks_run, MAX_THREADS,
	    (double)(now_ns() - t0) / 1e9, failures ? "FAIL" : "ok");
	free(j.out);
	free((void *)j.done);
	free(ref);
	return failures ? 1 : 0;
}
