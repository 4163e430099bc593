/*
 * src/pool.h — the block scheduler: a task DAG ("plan") built off the
 * real-time path, and a thread pool that runs a plan once per audio block.
 *
 * The plan knows nothing of modules: task t is run as run(ctx, t), and it
 * may start only once every task with an edge into it has finished.  Per
 * block, pool_run resets the predecessor counts, deals the tasks that have
 * none to the threads' queues (the same way every block, for cache
 * affinity), and returns when every task has run.  A thread that finishes
 * a task runs the first successor it made ready itself and queues the
 * others on its own queue; a thread with an empty queue steals.  The scheduler never decides summation order: output
 * is bit-identical whatever the thread count as long as tasks write disjoint
 * outputs and read only what their predecessors wrote.
 *
 * Control plane (may allocate, dies on out-of-memory): pool_plan_create,
 * pool_plan_free, pool_create, pool_destroy.  Real-time safe (no allocation,
 * no lock, no print; a worker only sleeps on a futex when idle): pool_run,
 * pool_stats, pool_thread_index.
 */
#ifndef FORKSYNTH_POOL_H
#define FORKSYNTH_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Tasks in one plan, at most (indices are 24 bits in the ready queue). */
#define POOL_MAX_TASKS (1u << 20)
/* Threads in one pool, the calling thread included, at most. */
#define POOL_MAX_THREADS 64
/* How long an idle thread spins before it sleeps on a futex, by default
 * (nanoseconds; pool_set_spin changes it). */
#define POOL_SPIN_NS 30000u

struct pool;
struct pool_plan;

/* Runs task `task` of a plan; `ctx` is what pool_run was given. */
typedef void (*pool_task_fn)(void *ctx, unsigned task);

/* A dependency: task `to` starts only after task `from` has finished. */
struct pool_edge {
	unsigned from;
	unsigned to;
};

/*
 * What one thread has done.  Thread 0 is the thread calling pool_run.  The
 * owner writes, anyone may read with relaxed loads; the struct is one cache
 * line so that it can live in memory shared with another process (the
 * parent reads `task` after a crash to blame a module).
 */
struct pool_thread_stats {
	_Atomic uint64_t busy_ns;   /* CLOCK_MONOTONIC time spent inside tasks */
	_Atomic uint64_t tasks;     /* tasks run since pool_create */
	_Atomic uint64_t idle_ns;   /* time spent spinning with nothing to run */
	_Atomic uint32_t sleeps;    /* times it slept on a futex, idle */
	_Atomic uint32_t steals;    /* tasks taken from another thread's queue */
	_Atomic uint32_t contended; /* compare-and-swaps lost taking a task */
	_Atomic int32_t task;       /* index of the task running now, -1 if none */
	_Atomic int16_t policy;     /* its scheduling policy (SCHED_FIFO, ...),
				       -1 before the thread has said */
	_Atomic int16_t priority;   /* its real-time priority, 0 if none */
	char pad[64 - 3 * sizeof(uint64_t) - 4 * sizeof(uint32_t) -
	    2 * sizeof(int16_t)];
};
_Static_assert(sizeof(struct pool_thread_stats) == 64,
    "one cache line per thread");

/* A plain snapshot of struct pool_thread_stats, returned by pool_stats. */
struct pool_stats {
	uint64_t busy_ns;
	uint64_t tasks;
	uint64_t idle_ns;
	uint32_t sleeps, steals, contended;
	int task;                   /* -1 when the thread runs no task */
	int policy;                 /* -1 when not known yet */
	int priority;
};

/*
 * Build a plan of `n_tasks` tasks, all run by `run`, ordered by `edges`
 * (duplicates allowed).  Everything pool_run needs is allocated here.
 * Returns NULL when an edge names a task >= n_tasks, when the edges make a
 * cycle, or when n_tasks > POOL_MAX_TASKS.
 */
struct pool_plan *pool_plan_create(unsigned n_tasks,
    const struct pool_edge *edges, size_t n_edges, pool_task_fn run);
void pool_plan_free(struct pool_plan *plan);
/* Tasks in the plan. */
unsigned pool_plan_tasks(const struct pool_plan *plan);

/*
 * Make a pool of `n_threads` threads: the caller of pool_run is thread 0
 * and n_threads - 1 workers are started here.  Plans of up to `max_tasks`
 * tasks can run on it.  With `rt_priority` > 0 the workers ask for
 * SCHED_FIFO at that priority; when refused they run with normal scheduling
 * and pool_rt_error says why.  `stats` is an array of n_threads entries the
 * caller owns (e.g. in shared memory), or NULL for the pool to own one.
 * Each worker sets FTZ/DAZ; the calling thread's scheduling, priority and
 * FTZ/DAZ are the caller's business.
 */
struct pool *pool_create(unsigned n_threads, unsigned max_tasks,
    int rt_priority, struct pool_thread_stats *stats);
/* Stop and join the workers and free the pool.  Not during pool_run. */
void pool_destroy(struct pool *p);

/*
 * Set how long idle threads (the engine waiting for the last task
 * included) spin before they sleep, in nanoseconds.  Longer than the block
 * period keeps the workers awake between blocks: no wake-up latency at the
 * start of a block, at the price of busy CPUs.  Safe at any time.
 */
void pool_set_spin(struct pool *p, uint64_t ns);

/*
 * A record of one block, for measuring (the bench): filled by every
 * pool_run while it is set, read between pool_run calls.  The caller owns
 * the arrays, `capacity` entries each; tasks past capacity go unrecorded.
 */
struct pool_trace {
	unsigned capacity;
	uint64_t *start_ns, *end_ns;    /* per task: CLOCK_MONOTONIC ns */
	uint16_t *thread;               /* per task: the thread that ran it */
	/* set by pool_run */
	const struct pool_plan *plan;   /* the plan of the block recorded */
	unsigned n_tasks, n_threads;
	uint64_t entry_ns;              /* pool_run was called */
	uint64_t publish_ns;            /* the block was published to the pool */
	uint64_t done_ns;               /* pool_run saw the last task end */
	uint64_t first_ns[POOL_MAX_THREADS]; /* each thread's first task start,
					   0 when it ran none */
};

/* Record the blocks from the next pool_run on into `tr` (NULL stops).
 * Not real-time work: for benches. */
void pool_set_trace(struct pool *p, struct pool_trace *tr);

/* The critical path of `plan` when task t takes dur_ns[t]: the longest sum
 * of durations along a chain of dependencies (the "span"; no thread count
 * can finish a block sooner).  Control plane (allocates). */
uint64_t pool_plan_span(const struct pool_plan *plan, const uint64_t *dur_ns);

/*
 * Idle workers that go to sleep wake up by themselves at the absolute
 * CLOCK_MONOTONIC time `ns` (0: only when work comes), then spin for up to
 * `spin_ns` before sleeping for good.  An engine that knows when the next
 * block comes sets it a little before, so that the workers are awake and
 * spinning then: no futex wake-up at the start of the block, and the CPUs
 * free for others in most of the gap.  Safe at any time.
 */
void pool_set_wake_at(struct pool *p, uint64_t ns, uint64_t spin_ns);

/* Threads in the pool, the calling thread included. */
unsigned pool_threads(const struct pool *p);
/* 0 when the workers got SCHED_FIFO (or none was asked), else the errno
 * that refused it (EPERM without rtprio rights): the caller warns once. */
int pool_rt_error(const struct pool *p);

/*
 * Run every task of `plan` once, each after its predecessors, on all the
 * pool's threads; returns when all have finished.  Call from one thread
 * only (the engine), never concurrently; `plan` may change from one call to
 * the next and may be freed once the call has returned.  Returns 0, or -1
 * (running nothing) when the plan has more tasks than the pool was made for.
 */
int pool_run(struct pool *p, struct pool_plan *plan, void *ctx);

/* Zero one thread's stats (task -1, policy unknown), before any thread
 * uses them. */
void pool_thread_stats_reset(struct pool_thread_stats *st);

/* Record the calling thread's scheduling policy and priority in `st`
 * (workers do it at start; the thread calling pool_run is the caller's). */
void pool_thread_stats_sched(struct pool_thread_stats *st);

/* A snapshot of what thread `thread` (0 .. pool_threads - 1) has done. */
struct pool_stats pool_stats(const struct pool *p, unsigned thread);

/* The calling thread's index in its pool: 1 .. n_threads - 1 on a worker,
 * 0 on any other thread (the one calling pool_run among them). */
unsigned pool_thread_index(void);

#endif
