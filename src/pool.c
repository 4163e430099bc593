/*
 * src/pool.c — the block scheduler: plans (task DAGs in CSR form, checked
 * acyclic, with precomputed predecessor counts and ready set) and the pool
 * of threads that runs one plan per block.
 *
 * How a block runs.  The engine (the thread calling pool_run) resets the
 * plan's pending counts, deals the ready tasks out to the threads' ready
 * queues, bumps the block generation and wakes sleeping workers if there is
 * work for them.  Every thread then loops: take a task from its own queue,
 * or steal one from another's, run it, and for each successor decrement its
 * pending count; the first successor that reaches zero runs next on the
 * same thread, the others go to that thread's queue.  The block is over
 * when `remaining` (tasks not yet finished) reaches zero.
 *
 * Affinity.  The ready tasks are dealt in contiguous runs, the same way
 * every block while the plan is the same: thread k gets ready tasks
 * [k n / T, (k + 1) n / T).  A voice thus runs on the same thread block
 * after block, its state hot in that core's cache, unless another thread
 * ran dry and stole it.  Stealing starts at the next thread up, so thieves
 * spread out.
 *
 * A ready queue is an array of slots indexed by ticket: a push (by the
 * queue's owner only, or by the engine while it deals) takes `tail++` and
 * writes its slot, a take advances `head` by compare-and-swap, owner and
 * thieves alike.  Each task is pushed at most once per block, so the array
 * never wraps and needs no reset.  Slots and heads carry the block
 * generation in their high 40 bits (the index or task in the low 24), so a
 * slot left over from an earlier block never matches, and a thread still
 * looking at an old block can never take a task of the new one.
 * (Generations wrap after 2^40 blocks: 23 years at 1500 blocks a second.)
 *
 * Idle threads spin for a while (pool_set_spin), then sleep on a private
 * futex, until work comes or, when the engine expects the next block at a
 * known time, until a little before it (pool_set_wake_at): they are then
 * spinning when the block comes, instead of being woken after it came.  Work is announced by bumping the `wake` word, and only when
 * `sleepers` says someone sleeps, so an idle pool costs nothing.  No
 * wake-up is lost: a sleeper counts itself then looks at every queue, a
 * pusher fills its slot then looks at the count, all seq_cst, so one of
 * them sees the other (a Dekker handshake, with seq_cst operations rather
 * than fences, which ThreadSanitizer cannot follow).  The engine, when it
 * has nothing left to take, sleeps the same way on its own word, woken by
 * new work or by the thread that finishes the block's last task.
 *
 * Measuring.  Each thread counts in its stats the time it spends in tasks
 * and spinning idle, its sleeps, its steals and the compare-and-swaps it
 * lost; with a trace set (pool_set_trace, for the bench) every task's start
 * and end and each thread's first start in the block are recorded too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
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
	uint32_t *order;            /* [n]: a topological order */
	_Atomic uint32_t *pending;  /* [n]: predecessors not finished this block */
};

/* One thread's ready queue (see the top of the file). */
struct pool_queue {
	alignas(64) _Atomic uint64_t head;      /* taken by CAS, anyone */
	alignas(64) _Atomic uint32_t tail;      /* written by the owner */
	_Atomic uint64_t *slot;                 /* [max_tasks] */
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
	_Atomic(struct pool_trace *) trace;     /* this block's, or NULL */
	_Atomic int quit;
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
	_Atomic uint64_t wake_at_ns;            /* sleepers wake up then, 0: no */
	_Atomic uint64_t ahead_spin_ns;         /* and spin this long after */
	_Atomic(struct pool_trace *) next_trace; /* for the coming blocks */
	unsigned n_threads;
	unsigned max_tasks;
	int rt_error;
	struct pool_queue *queues;              /* [n_threads] */
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
	int ahead;                  /* woke up ahead of a block: spin longer */
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
	return now - s->start >= atomic_load_explicit(s->ahead ?
	    &p->ahead_spin_ns : &p->spin_ns, memory_order_relaxed);
}

/* Add `ns` to one of the calling thread's own counters (a plain load and
 * store: only the owner writes). */
static inline void
count_add64(_Atomic uint64_t *c, uint64_t ns)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    ns, memory_order_relaxed);
}

static inline void
count_add32(_Atomic uint32_t *c, uint32_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    n, memory_order_relaxed);
}

/* Sleep while *word == val (returns at once if it differs), until the
 * absolute CLOCK_MONOTONIC time `until_ns` at the latest (0: no limit). */
static void
pool_futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t until_ns)
{
	struct timespec ts = { (time_t)(until_ns / 1000000000u),
	    (long)(until_ns % 1000000000u) };

	syscall(SYS_futex, (void *)word, FUTEX_WAIT_BITSET_PRIVATE, val,
	    until_ns ? &ts : NULL, NULL, FUTEX_BITSET_MATCH_ANY);
}

/* Wake up to n threads sleeping on word. */
static void
pool_futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, (void *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* True when queue q holds a task of the running block. */
static int
queue_ready(struct pool *p, struct pool_queue *q, uint64_t g)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_seq_cst);
	uint64_t i = h & IDX_MASK;

	if (g == 0 || h >> IDX_BITS != g || i >= p->max_tasks)
		return 0;
	return atomic_load_explicit(&q->slot[i], memory_order_seq_cst) >>
	    IDX_BITS == g;
}

/* True when any queue holds a task of the running block. */
static int
pool_ready(struct pool *p)
{
	uint64_t g = atomic_load_explicit(&p->block, memory_order_seq_cst);

	for (unsigned k = 0; k < p->n_threads; k++)
		if (queue_ready(p, &p->queues[k], g))
			return 1;
	return 0;
}

/* Take a task of block `gen` from queue q: 1 and *task set, or 0 when it
 * has none ready now.  Lost compare-and-swaps are counted in *lost. */
static int
queue_take(struct pool *p, struct pool_queue *q, uint64_t gen,
    unsigned *task, uint32_t *lost)
{
	uint64_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	uint64_t i, s;

	for (;;) {
		i = h & IDX_MASK;
		if (h >> IDX_BITS != gen || i >= p->max_tasks)
			return 0;
		s = atomic_load_explicit(&q->slot[i], memory_order_acquire);
		if (s >> IDX_BITS != gen)
			return 0;       /* not pushed yet */
		if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1,
		    memory_order_acq_rel, memory_order_acquire)) {
			*task = (unsigned)(s & IDX_MASK);
			return 1;
		}
		(*lost)++;
	}
}

/* Take a task of the running block for thread `self`: from its own queue
 * first, then from the others, the next one up first.  1 and *g, *task
 * set, or 0 when none is ready now. */
static int
pool_take(struct pool *p, unsigned self, uint64_t *g, unsigned *task,
    struct pool_thread_stats *st)
{
	uint64_t gen = atomic_load_explicit(&p->block, memory_order_acquire);
	uint32_t lost = 0;
	unsigned k, q;
	int got = 0;

	if (gen == 0)
		return 0;
	for (k = 0, q = self; k < p->n_threads && !got; k++) {
		got = queue_take(p, &p->queues[q], gen, task, &lost);
		if (got && k > 0)
			count_add32(&st->steals, 1);
		if (++q == p->n_threads)
			q = 0;
	}
	if (lost != 0)
		count_add32(&st->contended, lost);
	*g = gen;
	return got;
}

/* Queue `task`, ready in block `g`, on thread self's queue (it is pushed
 * once: its slot is free; only the owner pushes during a block). */
static void
pool_push(struct pool *p, unsigned self, uint64_t g, unsigned task)
{
	struct pool_queue *q = &p->queues[self];
	uint32_t i = atomic_load_explicit(&q->tail, memory_order_relaxed);

	atomic_store_explicit(&q->tail, i + 1, memory_order_relaxed);
	atomic_store_explicit(&q->slot[i], g << IDX_BITS | task,
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

/* Sleep until work is announced (or quit), unless some is there already;
 * when a wake-up time is set and still ahead, until then at the latest.
 * Returns 1 when it slept until such a time (or woke for work then). */
static int
pool_sleep(struct pool *p, struct pool_thread_stats *st)
{
	uint32_t w = atomic_load_explicit(&p->wake, memory_order_acquire);
	uint64_t at = atomic_load_explicit(&p->wake_at_ns, memory_order_relaxed);

	if (at != 0 && at <= pool_now_ns())
		at = 0;

	atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
	if (!pool_ready(p) && !atomic_load_explicit(&p->quit,
	    memory_order_acquire)) {
		count_add32(&st->sleeps, 1);
		pool_futex_wait(&p->wake, w, at);
	}
	atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
	return at != 0;
}

/* Run task t of block g on thread `self`, starting at t0 (ns), then, on
 * this thread, the first successor each finished task makes ready, until
 * one makes none ready.  Returns when the last one ended (ns). */
static uint64_t
pool_run_chain(struct pool *p, unsigned self, uint64_t g, unsigned t,
    uint64_t t0, struct pool_thread_stats *st)
{
	/* Safe to read: the block cannot end before t has finished. */
	struct pool_plan *pl = atomic_load_explicit(&p->plan,
	    memory_order_relaxed);
	void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
	struct pool_trace *tr = atomic_load_explicit(&p->trace,
	    memory_order_relaxed);
	uint64_t t1;
	unsigned pushed;
	uint32_t k, s;
	long next;

	if (tr != NULL && tr->first_ns[self] == 0)
		tr->first_ns[self] = t0;
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
				pool_push(p, self, g, s);
				pushed++;
			}
		}
		pool_wake(p, pushed);
		t1 = pool_now_ns();
		count_add64(&st->busy_ns, t1 - t0);
		count_add64(&st->tasks, 1);
		if (tr != NULL && t < tr->capacity) {
			tr->start_ns[t] = t0;
			tr->end_ns[t] = t1;
			tr->thread[t] = (uint16_t)self;
		}
		atomic_store_explicit(&st->task, -1, memory_order_relaxed);
		/* The plan may be freed once remaining reaches zero. */
		if (atomic_fetch_sub_explicit(&p->remaining, 1,
		    memory_order_seq_cst) == 1)
			pool_wake_engine(p);
		if (next < 0)
			return t1;
		t = (unsigned)next;
		t0 = t1;
	}
}

/* A worker: take and run tasks, spin a while when there are none, then
 * sleep until work is announced; until pool_destroy.  `idle_from` is when
 * it last ran out of work (or woke up): the spin since then is idle time. */
static void *
pool_worker(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	struct pool_thread_stats *st = &p->stats[w->id];
	struct spin spin = { 0, 0, 0 };
	uint64_t g, now, idle_from;
	unsigned t;
	int ahead;

	pool_thread_id = w->id;
	/* dsp1 is the engine thread; the UI's bars use the same numbers */
	char name[16];
	snprintf(name, sizeof name, "fs-dsp%u", w->id + 1);
	pthread_setname_np(pthread_self(), name);
	pool_thread_stats_sched(st);
	dsp_flush_denormals();
	idle_from = pool_now_ns();
	while (!atomic_load_explicit(&p->quit, memory_order_acquire)) {
		if (pool_take(p, w->id, &g, &t, st)) {
			now = pool_now_ns();
			count_add64(&st->idle_ns, now - idle_from);
			idle_from = pool_run_chain(p, w->id, g, t, now, st);
			spin = (struct spin){ 0, 0, 0 };
		} else if (spin_expired(p, &spin)) {
			count_add64(&st->idle_ns, pool_now_ns() - idle_from);
			ahead = pool_sleep(p, st);
			idle_from = pool_now_ns();
			spin = (struct spin){ 0, 0, ahead };
		}
	}
	return NULL;
}

/* Build the successor lists of a plan and a topological order, checking it
 * has no cycle (Kahn's algorithm); 0 when acyclic. */
static int
plan_build(struct pool_plan *pl, const struct pool_edge *edges,
    size_t n_edges)
{
	unsigned n = pl->n, done = 0, i;
	uint32_t *fill = xcalloc(n + 1, sizeof *fill);
	uint32_t *order = pl->order;
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
	pl->order = xcalloc(n_tasks + 1, sizeof *pl->order);
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
	free(pl->order);
	free((void *)pl->pending);
	free(pl);
}

/* Tasks in the plan. */
unsigned
pool_plan_tasks(const struct pool_plan *pl)
{
	return pl->n;
}

/* The critical path of a plan whose task t takes dur_ns[t]: the longest
 * sum of durations along any chain of edges. */
uint64_t
pool_plan_span(const struct pool_plan *pl, const uint64_t *dur_ns)
{
	uint64_t *finish = xcalloc(pl->n + 1, sizeof *finish), span = 0;
	uint32_t i, k, t;

	/* finish[t] holds the latest finish among t's predecessors until t
	 * is reached in topological order */
	for (i = 0; i < pl->n; i++) {
		t = pl->order[i];
		finish[t] += dur_ns[t];
		if (finish[t] > span)
			span = finish[t];
		for (k = pl->succ_offset[t]; k < pl->succ_offset[t + 1]; k++)
			if (finish[pl->succ[k]] < finish[t])
				finish[pl->succ[k]] = finish[t];
	}
	free(finish);
	return span;
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
	p->queues = xaligned(n_threads * sizeof *p->queues);
	/* Zeroed slots carry generation 0, which no block uses. */
	for (i = 0; i < n_threads; i++)
		p->queues[i].slot = xaligned((max_tasks ? max_tasks : 1) *
		    sizeof *p->queues[i].slot);
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
	for (i = 0; i < p->n_threads; i++)
		free((void *)p->queues[i].slot);
	free(p->queues);
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

/* Wake sleeping workers at `ns`, to spin `spin_ns` (see pool.h). */
void
pool_set_wake_at(struct pool *p, uint64_t ns, uint64_t spin_ns)
{
	atomic_store_explicit(&p->ahead_spin_ns, spin_ns, memory_order_relaxed);
	atomic_store_explicit(&p->wake_at_ns, ns, memory_order_relaxed);
}

/* Record the coming blocks into `tr` (NULL: stop). */
void
pool_set_trace(struct pool *p, struct pool_trace *tr)
{
	atomic_store_explicit(&p->next_trace, tr, memory_order_relaxed);
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

/* Deal the plan's ready tasks to the queues for block g, in contiguous
 * runs (thread k gets [k n / T, (k + 1) n / T)), and reset every head. */
static void
pool_deal(struct pool *p, const struct pool_plan *pl, uint64_t g)
{
	unsigned T = p->n_threads, k, i, first, last;

	for (k = 0; k < T; k++) {
		struct pool_queue *q = &p->queues[k];
		first = (unsigned)((uint64_t)k * pl->n_ready / T);
		last = (unsigned)((uint64_t)(k + 1) * pl->n_ready / T);
		for (i = first; i < last; i++)
			atomic_store_explicit(&q->slot[i - first],
			    g << IDX_BITS | pl->ready[i], memory_order_relaxed);
		atomic_store_explicit(&q->tail, last - first,
		    memory_order_relaxed);
		atomic_store_explicit(&q->head, g << IDX_BITS,
		    memory_order_relaxed);
	}
}

/* Run every task of the plan once, on all threads (see pool.h). */
int
pool_run(struct pool *p, struct pool_plan *pl, void *ctx)
{
	struct pool_thread_stats *st = &p->stats[0];
	struct pool_trace *tr = atomic_load_explicit(&p->next_trace,
	    memory_order_relaxed);
	struct spin spin = { 0, 0, 0 };
	uint64_t g, tg, now, entry = pool_now_ns(), idle_from;
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
	pool_deal(p, pl, g);
	atomic_store_explicit(&p->remaining, pl->n, memory_order_relaxed);
	atomic_store_explicit(&p->plan, pl, memory_order_relaxed);
	atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
	if (tr != NULL) {
		memset(tr->first_ns, 0, sizeof tr->first_ns);
		tr->plan = pl;
		tr->n_tasks = pl->n;
		tr->n_threads = p->n_threads;
		tr->entry_ns = entry;
		tr->publish_ns = pool_now_ns();
	}
	atomic_store_explicit(&p->trace, tr, memory_order_relaxed);
	atomic_store_explicit(&p->block, g, memory_order_seq_cst);
	/* The engine takes ready tasks itself (it is not waiting). */
	pool_wake(p, pl->n_ready - 1);

	idle_from = pool_now_ns();
	for (;;) {
		if (pool_take(p, 0, &tg, &t, st)) {
			now = pool_now_ns();
			count_add64(&st->idle_ns, now - idle_from);
			idle_from = pool_run_chain(p, 0, tg, t, now, st);
			spin = (struct spin){ 0, 0, 0 };
			continue;
		}
		if (atomic_load_explicit(&p->remaining,
		    memory_order_acquire) == 0)
			break;
		if (!spin_expired(p, &spin))
			continue;
		/* Nothing to take: sleep until work is queued or the last
		 * task ends. */
		count_add64(&st->idle_ns, pool_now_ns() - idle_from);
		w = atomic_load_explicit(&p->engine_wake, memory_order_acquire);
		atomic_store_explicit(&p->engine_waits, 1,
		    memory_order_seq_cst);
		if (atomic_load_explicit(&p->remaining, memory_order_seq_cst)
		    != 0 && !pool_ready(p)) {
			count_add32(&st->sleeps, 1);
			pool_futex_wait(&p->engine_wake, w, 0);
		}
		atomic_store_explicit(&p->engine_waits, 0,
		    memory_order_relaxed);
		idle_from = pool_now_ns();
		spin = (struct spin){ 0, 0, 0 };
	}
	now = pool_now_ns();
	count_add64(&st->idle_ns, now - idle_from);
	if (tr != NULL)
		tr->done_ns = now;
	return 0;
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
