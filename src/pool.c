/*
 * src/pool.c — the block scheduler: plans (task DAGs in CSR form, checked
 * acyclic, with precomputed predecessor counts and ready set) and the pool
 * of threads that runs one plan per block.
 *
 * How a block runs.  The engine (the thread calling pool_run) resets the
 * plan's pending counts, writes the ready tasks into the ready queue, bumps
 * the block generation and wakes sleeping workers if there is work for
 * them.  Every thread then loops: take a task from the queue, run it, and
 * for each successor decrement its pending count; the first successor that
 * reaches zero runs next on the same thread, the others go to the queue.
 * The block is over when `remaining` (tasks not yet finished) reaches zero.
 *
 * The ready queue is an array of slots indexed by ticket: a push takes
 * `tail++` and writes its slot, a take advances `head` by compare-and-swap.
 * Each task is pushed at most once per block, so the array never wraps and
 * needs no reset.  Slots and head carry the block generation in their high
 * 40 bits (the index or task in the low 24), so a slot left over from an
 * earlier block never matches, and a thread still looking at an old block
 * can never take a task of the new one.  (Generations wrap after 2^40
 * blocks: 23 years at 1500 blocks a second.)
 *
 * Idle threads spin for a while (pool_set_spin), then sleep on a private
 * futex.  Work is announced by bumping the `wake` word, and only when
 * `sleepers` says someone sleeps, so an idle pool costs nothing.  No
 * wake-up is lost: a sleeper counts itself then looks at the queue, a
 * pusher fills its slot then looks at the count, all four seq_cst, so one
 * of them sees the other (a Dekker handshake, with seq_cst operations
 * rather than fences, which ThreadSanitizer cannot follow).  The engine,
 * when it has nothing left to take, sleeps the same way on its own word,
 * woken by new work or by the thread that finishes the block's last task.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dsp_util.h"
#include "log.h"
#include "pool.h"

/* Queue words: generation << IDX_BITS | index (head) or task (slots). */
#define IDX_BITS 24
#define IDX_MASK ((UINT64_C(1) << IDX_BITS) - 1)
#define GEN_MASK ((UINT64_C(1) << (64 - IDX_BITS)) - 1)

struct pool_plan {
	unsigned n;                 /* tasks */
	pool_task_fn run;
	uint32_t *succ_offset;      /* [n + 1]: t's successors start at */
	uint32_t *succ;             /* succ[succ_offset[t]], end before t + 1's */
	uint32_t *npred;            /* [n]: predecessors of each task */
	uint32_t *ready;            /* [n_ready]: tasks without predecessors */
	unsigned n_ready;
	_Atomic uint32_t *pending;  /* [n]: predecessors not finished this block */
};

/* What a worker thread is told at start. */
struct pool_worker {
	struct pool *pool;
	unsigned id;                /* 1 .. n_threads - 1 */
};

struct pool {
	/* Written by the engine once per block, read by everyone. */
	alignas(64) _Atomic uint64_t block;     /* generation, 0 before the first */
	_Atomic(struct pool_plan *) plan;
	_Atomic(void *) ctx;
	_Atomic int quit;
	/* The ready queue (see the top of the file). */
	alignas(64) _Atomic uint64_t head;
	alignas(64) _Atomic uint32_t tail;
	/* Tasks of this block not finished yet. */
	alignas(64) _Atomic uint32_t remaining;
	/* The engine, when it waits for work or for the end of the block. */
	alignas(64) _Atomic uint32_t engine_wake;   /* its futex word */
	_Atomic int engine_waits;
	/* Sleeping workers: their futex word and how many sleep on it. */
	alignas(64) _Atomic uint32_t wake;
	_Atomic int sleepers;
	/* Fixed at creation, or rarely changed. */
	alignas(64) _Atomic uint64_t spin_ns;   /* idle spin before sleeping */
	unsigned n_threads;
	unsigned max_tasks;
	int rt_error;
	_Atomic uint64_t *slot;                 /* [max_tasks] */
	struct pool_thread_stats *stats;        /* [n_threads] */
	struct pool_thread_stats *own_stats;    /* stats, when the pool owns it */
	struct pool_worker *workers;            /* [n_threads], 0 unused */
	pthread_t *threads;                     /* [n_threads], 0 unused */
};

/* This thread's index in its pool: set by each worker, 0 elsewhere. */
static _Thread_local unsigned pool_thread_id;

/* Spinning state of an idle thread. */
struct spin {
	uint64_t start;             /* ns, 0 until the first clock read */
	unsigned n;
};

/* Tell the CPU we are spinning (saves power, frees the sibling thread). */
static inline void
cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* CLOCK_MONOTONIC in nanoseconds (vDSO: no system call). */
static inline uint64_t
pool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Pause once; true when this spin has lasted spin_ns (the clock is read
 * every 64 pauses only). */
static int
spin_expired(struct pool *p, struct spin *s)
{
	uint64_t now;

	cpu_pause();
	if (++s->n % 64 != 0)
		return 0;
	now = pool_now_ns();
	if (s->start == 0)
		s->start = now;
	return now - s->start >= atomic_load_explicit(&p->spin_ns,
	    memory_order_relaxed);
}

/* Sleep while *word == val (returns at once if it differs). */
static void
pool_futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, (void *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Wake up to n threads sleeping on word. */
static void
pool_futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (void *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* True when the queue holds a task of the running block. */
static int
pool_ready(struct pool *p)
{
	uint64_t g = atomic_load_explicit(&p->block, memory_order_seq_cst);
	uint64_t h = atomic_load_explicit(&p->head, memory_order_seq_cst);
	uint64_t i = h & IDX_MASK;

	if (g == 0 || h >> IDX_BITS != g || i >= p->max_tasks)
		return 0;
	return atomic_load_explicit(&p->slot[i], memory_order_seq_cst) >>
	    IDX_BITS == g;
}

/* Take a task of the running block from the queue: 1 and *g, *task set,
 * or 0 when none is ready now. */
static int
pool_take(struct pool *p, uint64_t *g, unsigned *task)
{
	uint64_t gen = atomic_load_explicit(&p->block, memory_order_acquire);
	uint64_t h = atomic_load_explicit(&p->head, memory_order_acquire);
	uint64_t i, s;

	for (;;) {
		i = h & IDX_MASK;
		if (gen == 0 || h >> IDX_BITS != gen || i >= p->max_tasks)
			return 0;
		s = atomic_load_explicit(&p->slot[i], memory_order_acquire);
		if (s >> IDX_BITS != gen)
			return 0;       /* not pushed yet */
		if (atomic_compare_exchange_weak_explicit(&p->head, &h, h + 1,
		    memory_order_acq_rel, memory_order_acquire)) {
			*g = gen;
			*task = (unsigned)(s & IDX_MASK);
			return 1;
		}
	}
}

/* Queue `task`, ready in block `g` (it is pushed once: its slot is free). */
static void
pool_push(struct pool *p, uint64_t g, unsigned task)
{
	uint32_t i = atomic_fetch_add_explicit(&p->tail, 1,
	    memory_order_relaxed);

	atomic_store_explicit(&p->slot[i], g << IDX_BITS | task,
	    memory_order_seq_cst);
}

/* Wake the engine if it sleeps (after a seq_cst store of the news). */
static int
pool_wake_engine(struct pool *p)
{
	if (!atomic_load_explicit(&p->engine_waits, memory_order_seq_cst))
		return 0;
	atomic_fetch_add_explicit(&p->engine_wake, 1, memory_order_release);
	pool_futex_wake(&p->engine_wake, 1);
	return 1;
}

/* After queueing n tasks: wake up to n sleeping threads, if any sleep. */
static void
pool_wake(struct pool *p, unsigned n)
{
	int sleepers;

	if (n == 0)
		return;
	n -= pool_wake_engine(p);
	sleepers = atomic_load_explicit(&p->sleepers, memory_order_seq_cst);
	if (sleepers <= 0 || n == 0)
		return;
	atomic_fetch_add_explicit(&p->wake, 1, memory_order_release);
	pool_futex_wake(&p->wake, n < (unsigned)sleepers ? (int)n : sleepers);
}

/* Sleep until work is announced (or quit), unless some is there already. */
static void
pool_sleep(struct pool *p)
{
	uint32_t w = atomic_load_explicit(&p->wake, memory_order_acquire);

	atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
	if (!pool_ready(p) && !atomic_load_explicit(&p->quit,
	    memory_order_acquire))
		pool_futex_wait(&p->wake, w);
	atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
}

/* Add one task's time to the calling thread's stats (it owns them). */
static void
stats_add(struct pool_thread_stats *st, uint64_t ns)
{
	atomic_store_explicit(&st->busy_ns, atomic_load_explicit(&st->busy_ns,
	    memory_order_relaxed) + ns, memory_order_relaxed);
	atomic_store_explicit(&st->tasks, atomic_load_explicit(&st->tasks,
	    memory_order_relaxed) + 1, memory_order_relaxed);
}

/* Run task t of block g, then, on this thread, the first successor each
 * finished task makes ready, until one makes none ready. */
static void
pool_run_chain(struct pool *p, uint64_t g, unsigned t,
    struct pool_thread_stats *st)
{
	/* Safe to read: the block cannot end before t has finished. */
	struct pool_plan *pl = atomic_load_explicit(&p->plan,
	    memory_order_relaxed);
	void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
	uint64_t t0 = pool_now_ns(), t1;
	unsigned pushed;
	uint32_t k, s;
	long next;

	for (;;) {
		atomic_store_explicit(&st->task, (int32_t)t,
		    memory_order_relaxed);
		pl->run(ctx, t);
		next = -1;
		pushed = 0;
		for (k = pl->succ_offset[t]; k < pl->succ_offset[t + 1]; k++) {
			s = pl->succ[k];
			if (atomic_fetch_sub_explicit(&pl->pending[s], 1,
			    memory_order_acq_rel) != 1)
				continue;
			if (next < 0)
				next = s;
			else {
				pool_push(p, g, s);
				pushed++;
			}
		}
		pool_wake(p, pushed);
		t1 = pool_now_ns();
		stats_add(st, t1 - t0);
		atomic_store_explicit(&st->task, -1, memory_order_relaxed);
		/* The plan may be freed once remaining reaches zero. */
		if (atomic_fetch_sub_explicit(&p->remaining, 1,
		    memory_order_seq_cst) == 1)
			pool_wake_engine(p);
		if (next < 0)
			return;
		t = (unsigned)next;
		t0 = t1;
	}
}

/* A worker: take and run tasks, spin a while when there are none, then
 * sleep until work is announced; until pool_destroy. */
static void *
pool_worker(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	struct pool_thread_stats *st = &p->stats[w->id];
	struct spin spin = { 0, 0 };
	uint64_t g;
	unsigned t;

	pool_thread_id = w->id;
	pool_thread_stats_sched(st);
	dsp_flush_denormals();
	while (!atomic_load_explicit(&p->quit, memory_order_acquire)) {
		if (pool_take(p, &g, &t)) {
			pool_run_chain(p, g, t, st);
			spin = (struct spin){ 0, 0 };
		} else if (spin_expired(p, &spin)) {
			pool_sleep(p);
			spin = (struct spin){ 0, 0 };
		}
	}
	return NULL;
}

/* Build the successor lists of a plan and check it has no cycle (Kahn's
 * algorithm); 0 when acyclic. */
static int
plan_build(struct pool_plan *pl, const struct pool_edge *edges,
    size_t n_edges)
{
	unsigned n = pl->n, done = 0, i;
	uint32_t *fill = xcalloc(n + 1, sizeof *fill);
	uint32_t *order = xcalloc(n + 1, sizeof *order);
	uint32_t *left = xcalloc(n + 1, sizeof *left);
	uint32_t k, t, s;
	size_t e;

	for (e = 0; e < n_edges; e++) {
		pl->succ_offset[edges[e].from + 1]++;
		pl->npred[edges[e].to]++;
	}
	for (i = 0; i < n; i++)
		pl->succ_offset[i + 1] += pl->succ_offset[i];
	memcpy(fill, pl->succ_offset, n * sizeof *fill);
	for (e = 0; e < n_edges; e++)
		pl->succ[fill[edges[e].from]++] = edges[e].to;

	for (i = 0; i < n; i++)
		if (pl->npred[i] == 0)
			pl->ready[pl->n_ready++] = order[done++] = i;
	memcpy(left, pl->npred, n * sizeof *left);
	for (i = 0; i < done; i++) {
		t = order[i];
		for (k = pl->succ_offset[t]; k < pl->succ_offset[t + 1]; k++) {
			s = pl->succ[k];
			if (--left[s] == 0)
				order[done++] = s;
		}
	}
	free(fill);
	free(order);
	free(left);
	return done == n ? 0 : -1;
}

/* Build a plan; NULL for bad edges, a cycle or too many tasks. */
struct pool_plan *
pool_plan_create(unsigned n_tasks, const struct pool_edge *edges,
    size_t n_edges, pool_task_fn run)
{
	struct pool_plan *pl;
	size_t e;

	if (n_tasks > POOL_MAX_TASKS || n_edges > UINT32_MAX || run == NULL)
		return NULL;
	for (e = 0; e < n_edges; e++)
		if (edges[e].from >= n_tasks || edges[e].to >= n_tasks)
			return NULL;

	pl = xcalloc(1, sizeof *pl);
	pl->n = n_tasks;
	pl->run = run;
	pl->succ_offset = xcalloc(n_tasks + 1, sizeof *pl->succ_offset);
	pl->succ = xcalloc(n_edges, sizeof *pl->succ);
	pl->npred = xcalloc(n_tasks, sizeof *pl->npred);
	pl->ready = xcalloc(n_tasks, sizeof *pl->ready);
	pl->pending = xaligned(n_tasks * sizeof *pl->pending);
	if (plan_build(pl, edges, n_edges) != 0) {
		pool_plan_free(pl);
		return NULL;
	}
	return pl;
}

/* Free a plan (not while a pool_run is using it). */
void
pool_plan_free(struct pool_plan *pl)
{
	if (pl == NULL)
		return;
	free(pl->succ_offset);
	free(pl->succ);
	free(pl->npred);
	free(pl->ready);
	free((void *)pl->pending);
	free(pl);
}

/* Tasks in the plan. */
unsigned
pool_plan_tasks(const struct pool_plan *pl)
{
	return pl->n;
}

/* Start worker `id`, at SCHED_FIFO `prio` if asked and not yet refused;
 * returns pthread_create's error. */
static int
pool_start(struct pool *p, unsigned id, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	pthread_attr_t attr;
	int err;

	p->workers[id] = (struct pool_worker){ p, id };
	pthread_attr_init(&attr);
	if (prio > 0 && p->rt_error == 0) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		p->rt_error = pthread_attr_setschedparam(&attr, &sp);
	}
	err = pthread_create(&p->threads[id], &attr, pool_worker,
	    &p->workers[id]);
	if (err == EPERM && prio > 0 && p->rt_error == 0) {
		/* No rtprio rights: record it and use normal scheduling. */
		p->rt_error = EPERM;
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
		err = pthread_create(&p->threads[id], &attr, pool_worker,
		    &p->workers[id]);
	}
	pthread_attr_destroy(&attr);
	return err;
}

/* Make a pool and start its workers (see pool.h). */
struct pool *
pool_create(unsigned n_threads, unsigned max_tasks, int rt_priority,
    struct pool_thread_stats *stats)
{
	struct pool *p;
	unsigned i;
	int err;

	if (n_threads == 0 || n_threads > POOL_MAX_THREADS)
		fatal("pool: %u threads (1 to %d)", n_threads,
		    POOL_MAX_THREADS);
	if (max_tasks > POOL_MAX_TASKS)
		fatal("pool: %u tasks (at most %u)", max_tasks,
		    POOL_MAX_TASKS);

	p = xaligned(sizeof *p);
	p->n_threads = n_threads;
	p->max_tasks = max_tasks;
	atomic_init(&p->spin_ns, POOL_SPIN_NS);
	/* Zeroed slots carry generation 0, which no block uses. */
	p->slot = xaligned((max_tasks ? max_tasks : 1) * sizeof *p->slot);
	if (stats == NULL)
		stats = p->own_stats = xaligned(n_threads * sizeof *stats);
	p->stats = stats;
	for (i = 0; i < n_threads; i++)
		pool_thread_stats_reset(&stats[i]);
	p->workers = xcalloc(n_threads, sizeof *p->workers);
	p->threads = xcalloc(n_threads, sizeof *p->threads);
	for (i = 1; i < n_threads; i++)
		if ((err = pool_start(p, i, rt_priority)) != 0)
			fatal("pool: cannot start thread %u: %s", i,
			    strerror(err));
	return p;
}

/* Stop and join the workers, then free the pool. */
void
pool_destroy(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	atomic_store_explicit(&p->quit, 1, memory_order_seq_cst);
	atomic_fetch_add_explicit(&p->wake, 1, memory_order_seq_cst);
	pool_futex_wake(&p->wake, INT_MAX);
	for (i = 1; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free((void *)p->slot);
	free(p->own_stats);
	free(p->workers);
	free(p->threads);
	free(p);
}

/* Set how long idle threads spin before they sleep. */
void
pool_set_spin(struct pool *p, uint64_t ns)
{
	atomic_store_explicit(&p->spin_ns, ns, memory_order_relaxed);
}

/* Threads in the pool, the caller of pool_run included. */
unsigned
pool_threads(const struct pool *p)
{
	return p->n_threads;
}

/* 0, or why the workers run without SCHED_FIFO. */
int
pool_rt_error(const struct pool *p)
{
	return p->rt_error;
}

/* Run every task of the plan once, on all threads (see pool.h). */
int
pool_run(struct pool *p, struct pool_plan *pl, void *ctx)
{
	struct pool_thread_stats *st = &p->stats[0];
	struct spin spin = { 0, 0 };
	uint64_t g, tg;
	uint32_t w;
	unsigned i, t;

	if (pl->n > p->max_tasks)
		return -1;
	if (pl->n == 0)
		return 0;

	/* Set the block up; all of it is published by the release of g. */
	g = (atomic_load_explicit(&p->block, memory_order_relaxed) + 1) &
	    GEN_MASK;
	if (g == 0)
		g = 1;
	for (i = 0; i < pl->n; i++)
		atomic_store_explicit(&pl->pending[i], pl->npred[i],
		    memory_order_relaxed);
	for (i = 0; i < pl->n_ready; i++)
		atomic_store_explicit(&p->slot[i], g << IDX_BITS | pl->ready[i],
		    memory_order_relaxed);
	atomic_store_explicit(&p->tail, pl->n_ready, memory_order_relaxed);
	atomic_store_explicit(&p->remaining, pl->n, memory_order_relaxed);
	atomic_store_explicit(&p->head, g << IDX_BITS, memory_order_relaxed);
	atomic_store_explicit(&p->plan, pl, memory_order_relaxed);
	atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&p->block, g, memory_order_seq_cst);
	/* The engine takes one ready task itself (it is not waiting). */
	pool_wake(p, pl->n_ready - 1);

	for (;;) {
		if (pool_take(p, &tg, &t)) {
			pool_run_chain(p, tg, t, st);
			spin = (struct spin){ 0, 0 };
			continue;
		}
		if (atomic_load_explicit(&p->remaining,
		    memory_order_acquire) == 0)
			return 0;
		if (!spin_expired(p, &spin))
			continue;
		/* Nothing to take: sleep until work is queued or the last
		 * task ends. */
		w = atomic_load_explicit(&p->engine_wake, memory_order_acquire);
		atomic_store_explicit(&p->engine_waits, 1,
		    memory_order_seq_cst);
		if (atomic_load_explicit(&p->remaining, memory_order_seq_cst)
		    != 0 && !pool_ready(p))
			pool_futex_wait(&p->engine_wake, w);
		atomic_store_explicit(&p->engine_waits, 0,
		    memory_order_relaxed);
		spin = (struct spin){ 0, 0 };
	}
}

/* A snapshot of one thread's stats. */
struct pool_stats
pool_stats(const struct pool *p, unsigned thread)
{
	const struct pool_thread_stats *st = &p->stats[thread];
	struct pool_stats s;

	s.busy_ns = atomic_load_explicit(&st->busy_ns, memory_order_relaxed);
	s.tasks = atomic_load_explicit(&st->tasks, memory_order_relaxed);
	s.idle_ns = atomic_load_explicit(&st->idle_ns, memory_order_relaxed);
	s.sleeps = atomic_load_explicit(&st->sleeps, memory_order_relaxed);
	s.steals = atomic_load_explicit(&st->steals, memory_order_relaxed);
	s.contended = atomic_load_explicit(&st->contended,
	    memory_order_relaxed);
	s.task = atomic_load_explicit(&st->task, memory_order_relaxed);
	s.policy = atomic_load_explicit(&st->policy, memory_order_relaxed);
	s.priority = atomic_load_explicit(&st->priority, memory_order_relaxed);
	return s;
}

/* Zero one thread's stats. */
void
pool_thread_stats_reset(struct pool_thread_stats *st)
{
	atomic_store(&st->busy_ns, 0);
	atomic_store(&st->tasks, 0);
	atomic_store(&st->idle_ns, 0);
	atomic_store(&st->sleeps, 0);
	atomic_store(&st->steals, 0);
	atomic_store(&st->contended, 0);
	atomic_store(&st->task, -1);
	atomic_store(&st->policy, -1);
	atomic_store(&st->priority, 0);
}

/* Record the calling thread's policy and priority. */
void
pool_thread_stats_sched(struct pool_thread_stats *st)
{
	struct sched_param sp;
	int policy;

	if (pthread_getschedparam(pthread_self(), &policy, &sp) != 0)
		return;
	atomic_store_explicit(&st->priority, (int16_t)sp.sched_priority,
	    memory_order_relaxed);
	atomic_store_explicit(&st->policy, (int16_t)policy,
	    memory_order_release);
}

/* The calling thread's index in its pool (see pool.h). */
unsigned
pool_thread_index(void)
{
	return pool_thread_id;
}
