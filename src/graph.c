/*
 * src/graph.c — compiles a patch into instances, buffers and a run order,
 * and runs it block by block without allocating.
 *
 * Modules run in a topological order of the patch's connections.  A
 * connection that would close a loop reads what its source produced one
 * chunk earlier (a delay of GRAPH_CHUNK frames at most).  Inputs with several
 * sources are summed in a fixed order (connection order, then voices in
 * ascending order), so the output never depends on timing or threads.
 *
 * For the thread pool the instances are grouped into tasks.  Every module
 * gets a stage: the highest stage among its sources, plus one where the
 * signal crosses between voice and global scope.  A task is then either one
 * voice's modules of one stage (a whole voice, usually: its chain runs on
 * one thread, hot in one cache) or one global module.  Tasks of one stage
 * never depend on each other across scopes, so listing them stage by stage
 * is a valid serial order too.
 *
 * Many sources into one input (every voice of amp.out into a global reverb,
 * or into out.1) are not added up serially by the reader: they go through
 * a reduction tree of partial-sum tasks.  Level 1 adds sources
 * [0, SUM_GROUP), [SUM_GROUP, 2 SUM_GROUP), ... each into a partial buffer,
 * as a task that waits for exactly the tasks producing its sources; level 2
 * groups level 1's partials the same way, and so on until at most SUM_GROUP
 * remain, which the reader adds in order.  An engine output with several
 * sources gets one more task that adds the rest into its buffer, so after
 * the pool has run the engine only copies.  SUM_GROUP is a constant and
 * every sum adds its terms strictly in list order, so the grouping, and with
 * it every rounding, depends only on how many sources an input has: the
 * output is bit-identical with no pool or any number of threads (up to 16
 * sources it is the plain ordered sum it always was).  Sum tasks come right
 * before the task that reads them, after every task they read, so running
 * the tasks in index order stays valid.  A sum is charged (cost) and blamed
 * (crash) to the global module it sums for; an engine output's sums to the
 * module of its first source a task produces.  Voice modules' inputs add
 * their few sources (one per connection) inline: that work is already
 * spread over the voices.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "guard.h"
#include "log.h"
#include "pool.h"
#include "voices.h"

/* Sources one partial sum adds, at most.  Fixed, and so the grouping: it
 * depends on an input's source count only, never on the threads, which
 * keeps the output bit-identical.  16 chunk buffers (16 KiB) and the sum
 * stay in L1, an input of 4096 voices takes 3 levels (256 + 16 partials,
 * then the reader adds 16), and a group's sum runs on the thread of the
 * voice task that finishes it, while its output is still in cache. */
#define SUM_GROUP 16

_Static_assert(VOICES_MAX >= PATCH_MAX_POLY,
    "the voice allocator must hold every voice");

#define NO_TASK (~0u)             /* an instance not laid out in a task yet */
#define NO_SUM (~0u)              /* a task that is not a sum */

/* One input port of one instance: where its samples come from. */
struct graph_input {
	unsigned first;          /* index into graph->sources */
	unsigned count;          /* number of sources */
	float *sum;              /* buffer for summing, when count > 1 */
	const float *const *partial; /* with a reduction tree (count >
				    SUM_GROUP): its top level's partial sums,
				    added here instead of the sources; or NULL */
	unsigned n_partial;      /* 2 .. SUM_GROUP of them */
	unsigned partial_task;   /* the task of partial[0]; the others follow */
	int by_task;             /* engine outputs: a sum task fills `sum` */
};

/* One partial sum (or an engine output's total), run as a task of its own:
 * out = src[0] + src[1] + ... in this order. */
struct graph_sum {
	const float *const *src;
	unsigned count;          /* 1 .. SUM_GROUP */
	float *out;              /* GRAPH_CHUNK frames */
	int module;              /* charged for the time and blamed, or -1 */
};

/* One running copy of a patch module (one per voice for voice modules). */
struct graph_instance {
	const struct module_type *type;
	void *state;             /* owned, or adopted from the graph before */
	int owns_state;          /* free state with this graph */
	void *pending_res;       /* resource to hand over at the first block */
	int has_pending;
	int module;              /* index in the patch */
	unsigned voice;          /* 0 for global modules */
	struct graph_input *inputs;     /* type->n_inputs */
	float **outputs;                /* type->n_outputs buffers of GRAPH_CHUNK */
	float **feedback;               /* per output: last chunk, or NULL */
};

/* What voice routing remembers between blocks (carried across recompiles). */
struct route_state {
	unsigned char held[128];         /* mono: held notes, the last sounds */
	unsigned char held_vel[128];
	unsigned n_held;
	int sustain;                     /* the pedal is down */
	unsigned char sustained[128];    /* released under the pedal */
	int muted;                       /* all sound off until the next note */
	float gain;                      /* output gain at the end of the last chunk */
};

/* A queued note event, in frames from the start of the coming block. */
struct graph_event {
	unsigned frame;
	unsigned char kind;      /* enum note_event_kind, BEND for bends */
	unsigned char note;
	unsigned char velocity;
	float amount;
};

struct graph {
	float rate;
	unsigned n_inputs, n_outputs;
	unsigned n_instances;
	struct graph_instance *instances;      /* in run order */
	unsigned n_modules;
	unsigned *module_first;                /* per patch module: first instance */
	unsigned *module_count;                /* per patch module: instances */
	char (*module_names)[PATCH_NAME_MAX];  /* per patch module, for reuse */
	float (*module_params)[MODULE_MAX_PARAMS]; /* values set on first run */
	int params_pending;                    /* set them at the next process */
	const struct module_type **module_types;
	unsigned char *module_scope;           /* per patch module: enum scope */
	const float **sources;                 /* flattened source lists */
	int *source_inst;                      /* instance behind each source,
						  -1 for inputs and loop edges */
	unsigned n_sources, cap_sources;
	float **engine_in;                     /* n_inputs chunk buffers */
	struct graph_input *engine_out;        /* n_outputs gathered inputs */
	const float **engine_out_ptr;          /* scratch, n_outputs */
	struct voices *voices;
	unsigned poly;
	int mono;
	struct route_state route;
	struct graph_event events[GRAPH_MAX_EVENTS];
	unsigned n_events;
	/* tasks: task t runs instances task_inst[task_first[t] .. task_first[t+1]) */
	unsigned n_tasks;                      /* all tasks: main, then background */
	unsigned n_main_tasks;
	unsigned *task_first;
	unsigned *task_inst;
	unsigned *task_sum;                    /* per task: index in sums, or NO_SUM */
	struct graph_sum *sums;                /* partial sums, in task order */
	unsigned n_sums;
	struct pool_plan *plan;
	struct loop_copy { float *to; const float *from; } *loop_copies;
	unsigned n_loop_copies;                /* outputs read through loop edges:
						  kept after each chunk */
	struct pool *pool;                     /* NULL: run the tasks serially */
	unsigned chunk_frames;                 /* frames of the chunk running */
	_Atomic int32_t *blame;                /* per task: module running, or NULL */
	unsigned n_blame;
	_Atomic uint64_t (*cost)[PATCH_MAX_MODULES]; /* per pool thread: ns per
						  module, or NULL: no timing */
	char (*module_texts)[PARAM_TEXT_MAX];  /* per module: its text parameter */
	struct released { const struct module_type *type; void *res; } *released;
	unsigned n_released;                   /* resources let go, freed with g */
	char load_error[400];                  /* a resource that failed to load */
	/* blow-ups (src/guard.h): instances whose output went non-finite or
	 * beyond +60 dBFS this chunk, reset after it; per patch module the
	 * resets so far, the worst output seen (bits of |x|, above 0x7f800000:
	 * not finite), the resets already taken by graph_take_resets; per
	 * patch module the state init leaves, to reset from (NULL when the
	 * type resets itself) */
	unsigned *blown;
	_Atomic unsigned n_blown;
	_Atomic uint32_t *reset_count;
	_Atomic uint32_t *reset_peak;
	uint32_t *reset_taken;
	void **module_template;
	void **allocations;                    /* everything to free */
	unsigned n_allocations, cap_allocations;
};

/* Allocate zeroed, aligned memory owned by the graph. */
static void *
graph_alloc(struct graph *g, size_t size)
{
	if (g->n_allocations == g->cap_allocations) {
		g->cap_allocations = g->cap_allocations ? 2 * g->cap_allocations : 64;
		void **n = realloc(g->allocations,
		    g->cap_allocations * sizeof *g->allocations);
		if (n == NULL)
			fatal("out of memory compiling the graph");
		g->allocations = n;
	}
	void *p = xaligned(size);
	g->allocations[g->n_allocations++] = p;
	return p;
}

_Thread_local volatile int graph_running_module = -1;

static const float *input_samples(struct graph *g,
    const struct graph_input *in, unsigned n);

/* Visit state of a module during the topological sort. */
enum { UNSEEN = 0, ACTIVE, DONE };

/* Depth-first post-order over "module m feeds module n"; `order` gets the
 * modules with every source before its destinations (back edges aside). */
static void
visit(const struct patch *p, int m, unsigned char *state, int *order,
    unsigned *n_order)
{
	state[m] = ACTIVE;
	/* a module's sources must run first: walk edges backwards */
	for (unsigned c = 0; c < p->n_connections; c++) {
		const struct patch_connection *k = &p->connections[c];
		if (k->to.module != m || k->from.module < 0)
			continue;
		if (state[k->from.module] == UNSEEN)
			visit(p, k->from.module, state, order, n_order);
	}
	state[m] = DONE;
	order[(*n_order)++] = m;
}

/* Instance of patch module `m` that serves voice `v`. */
static struct graph_instance *
instance_of(struct graph *g, int m, unsigned v)
{
	unsigned count = g->module_count[m];
	return &g->instances[g->module_first[m] + (count > 1 ? v : 0)];
}

/* A chunk buffer holding what output `port` of `src` produced: the live
 * buffer, or for a delayed (loop-closing) edge the previous chunk's copy. */
static const float *
source_buffer(struct graph *g, struct graph_instance *src, int port, int delayed)
{
	if (!delayed)
		return src->outputs[port];
	if (src->feedback[port] == NULL)
		src->feedback[port] = graph_alloc(g, GRAPH_CHUNK * sizeof(float));
	return src->feedback[port];
}

/* Append `buf`, produced by instance `inst` (-1: by none this chunk), to
 * the source list of `in`. */
static void
add_source(struct graph *g, const float *buf, int inst, struct graph_input *in)
{
	if (g->n_sources == g->cap_sources)
		fatal("internal error: more sources than count_sources said");
	g->source_inst[g->n_sources] = inst;
	g->sources[g->n_sources++] = buf;
	in->count++;
}

/*
 * Gather the source list of one input: every connection into
 * (to_module, to_port) in patch order; from a voice module into a global
 * one, every voice in order.  `rank` gives each module's run position so
 * that edges from later modules are read delayed.
 */
static void
gather(struct graph *g, const struct patch *p, const int *rank, int to_module,
    int to_port, unsigned voice, struct graph_input *in)
{
	in->first = g->n_sources;
	in->count = 0;
	for (unsigned c = 0; c < p->n_connections; c++) {
		const struct patch_connection *k = &p->connections[c];
		if (k->to.module != to_module || k->to.port != to_port)
			continue;
		if (k->from.module == PATCH_IO_IN) {
			add_source(g, g->engine_in[k->from.port], -1, in);
			continue;
		}
		int from = k->from.module;
		int delayed = to_module >= 0 && rank[from] >= rank[to_module];
		int from_voice = p->modules[from].scope == SCOPE_VOICE;
		int to_voice = to_module >= 0 && p->modules[to_module].scope == SCOPE_VOICE;
		unsigned v0 = from_voice && !to_voice ? 0 : voice;
		unsigned v1 = from_voice && !to_voice ? g->module_count[from] : voice + 1;
		for (unsigned v = v0; v < v1; v++) {
			struct graph_instance *src = instance_of(g, from, v);
			add_source(g, source_buffer(g, src, k->from.port, delayed),
			    delayed ? -1 : (int)(src - g->instances), in);
		}
	}
	if (in->count > 1)
		in->sum = graph_alloc(g, GRAPH_CHUNK * sizeof(float));
}

/* Number of source buffers all inputs need, to size g->sources: a
 * connection that touches a voice module gives poly entries (voice -> voice
 * and global -> voice: one per voice instance; voice -> global or out: one
 * instance reads every voice), any other one entry. */
static unsigned
count_sources(const struct patch *p)
{
	unsigned n = 0;
	for (unsigned c = 0; c < p->n_connections; c++) {
		const struct patch_connection *k = &p->connections[c];
		int from_voice = k->from.module >= 0 &&
		    p->modules[k->from.module].scope == SCOPE_VOICE;
		int to_voice = k->to.module >= 0 &&
		    p->modules[k->to.module].scope == SCOPE_VOICE;
		n += from_voice || to_voice ? p->poly : 1;
	}
	return n;
}

/* Build the resource for an instance's text parameter (an IR file) now,
 * off the real-time path; it is handed over at the first block.  A failure
 * keeps what the instance had and is reported through graph_load_error. */
static void
load_resource(struct graph *g, struct graph_instance *in,
    const struct patch_module *pm, float rate)
{
	char err[300];
	if (g->released == NULL)
		g->released = graph_alloc(g, (g->n_instances + 1) * sizeof *g->released);
	if (pm->text[0] == '\0') {
		in->pending_res = NULL;
		in->has_pending = 1;
		return;
	}
	void *res = in->type->resource_load(pm->text, rate, pm->params, err, sizeof err);
	if (res == NULL) {
		snprintf(g->load_error, sizeof g->load_error, "%s: %s", pm->name, err);
		return;
	}
	in->pending_res = res;
	in->has_pending = 1;
}

/* The instance of `old` that voice `v` of patch module `m` continues from:
 * same name, type and scope, or NULL. */
static struct graph_instance *
find_old(struct graph *old, const struct patch *p, int m, unsigned v)
{
	if (old == NULL)
		return NULL;
	for (unsigned om = 0; om < old->n_modules; om++) {
		if (strcmp(old->module_names[om], p->modules[m].name) != 0)
			continue;
		if (old->module_types[om] != p->modules[m].type ||
		    old->module_scope[om] != p->modules[m].scope ||
		    v >= old->module_count[om])
			return NULL;
		return &old->instances[old->module_first[om] + v];
	}
	return NULL;
}


/* CLOCK_MONOTONIC now, in nanoseconds (vDSO: no system call). */
static inline uint64_t
graph_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Add `ns` nanoseconds to patch module `module` in the calling thread's
 * cost row (its own: a plain load and store, no contended update). */
static inline void
cost_add(_Atomic uint64_t *row, int module, uint64_t ns)
{
	atomic_store_explicit(&row[module], atomic_load_explicit(&row[module],
	    memory_order_relaxed) + ns, memory_order_relaxed);
}

/* out = src[0] + src[1] + ... + src[count - 1], n frames, added strictly
 * in that order (four sources a pass: fewer loads and stores of `out`, the
 * same rounding). */
static void
sum_into(float *restrict out, const float *const *src, unsigned count,
    unsigned n)
{
	unsigned s = 1;
	memcpy(out, src[0], n * sizeof(float));
	for (; s + 4 <= count; s += 4) {
		const float *a = src[s], *b = src[s + 1];
		const float *c = src[s + 2], *d = src[s + 3];
		for (unsigned i = 0; i < n; i++)
			out[i] = (((out[i] + a[i]) + b[i]) + c[i]) + d[i];
	}
	for (; s < count; s++)
		for (unsigned i = 0; i < n; i++)
			out[i] += src[s][i];
}

/* The bits of GUARD_BLOWUP_LIMIT (guard_limit_bits(1000.0f)). */
#define BLOWUP_BITS 0x447a0000u

/* Instance `i` produced a non-finite or huge output this chunk: note the
 * worst of it for the report, silence its outputs so that no module reads
 * them, and list it for the reset after the chunk.  Rare; any DSP thread. */
static void
instance_blew_up(struct graph *g, unsigned i, unsigned n)
{
	struct graph_instance *in = &g->instances[i];
	uint32_t worst = 0, seen;
	for (unsigned o = 0; o < in->type->n_outputs; o++) {
		int nonfinite = 0;
		float peak = guard_peak(in->outputs[o], n, &nonfinite);
		uint32_t bits = nonfinite ? 0x7f800000u : guard_limit_bits(peak);
		if (bits > worst)
			worst = bits;
		memset(in->outputs[o], 0, n * sizeof(float));
	}
	_Atomic uint32_t *peak = &g->reset_peak[in->module];
	seen = atomic_load_explicit(peak, memory_order_relaxed);
	while (worst > seen && !atomic_compare_exchange_weak_explicit(peak, &seen,
	    worst, memory_order_relaxed, memory_order_relaxed))
		;
	unsigned k = atomic_fetch_add_explicit(&g->n_blown, 1, memory_order_relaxed);
	if (k < g->n_instances)
		g->blown[k] = i;
}

/* Between chunks, on the engine thread (no task runs): bring every
 * instance that blew up back to silence, its parameters as they were. */
static void
reset_blown(struct graph *g)
{
	unsigned n = atomic_load_explicit(&g->n_blown, memory_order_relaxed);
	if (n == 0)
		return;
	if (n > g->n_instances)
		n = g->n_instances;
	for (unsigned k = 0; k < n; k++) {
		struct graph_instance *in = &g->instances[g->blown[k]];
		const struct module_type *t = in->type;
		int m = in->module;
		if (t->reset != NULL) {
			t->reset(in->state);
		} else {
			memcpy(in->state, g->module_template[m],
			    module_state_size(t, g->rate));
			for (unsigned p = 0; p < t->n_params; p++)
				t->set_param(in->state, p, g->module_params[m][p]);
		}
		atomic_fetch_add_explicit(&g->reset_count[m], 1, memory_order_release);
	}
	atomic_store_explicit(&g->n_blown, 0, memory_order_relaxed);
}

/* Run task `task`: a partial sum, or its instances in run order, each
 * after gathering its inputs, timed into the thread's cost row when the
 * graph is profiled (a sum is charged to the module it sums for).
 * Called by the pool's threads; touches only the task's own instances and
 * reads its sources' finished buffers. */
static void
graph_run_task(void *ctx, unsigned task)
{
	struct graph *g = ctx;
	const float *ip[MODULE_MAX_PORTS];
	unsigned n = g->chunk_frames;
	_Atomic uint64_t *row = g->cost != NULL ? g->cost[pool_thread_index()] : NULL;
	uint64_t t0 = row != NULL ? graph_now_ns() : 0, t1;

	if (task >= g->n_tasks)
		return;                 /* the one empty task of an empty plan */
	if (g->task_sum[task] != NO_SUM) {
		const struct graph_sum *s = &g->sums[g->task_sum[task]];
		graph_running_module = s->module;
		if (g->blame != NULL && task < g->n_blame)
			atomic_store_explicit(&g->blame[task], s->module,
			    memory_order_relaxed);
		sum_into(s->out, s->src, s->count, n);
		graph_running_module = -1;
		if (row != NULL && s->module >= 0)
			cost_add(row, s->module, graph_now_ns() - t0);
		return;
	}
	if (task >= g->n_main_tasks) {
		struct graph_instance *in = &g->instances[g->task_inst[g->task_first[task]]];
		graph_running_module = in->module;
		in->type->background(in->state);
		graph_running_module = -1;
		if (row != NULL)
			cost_add(row, in->module, graph_now_ns() - t0);
		return;
	}
	for (unsigned j = g->task_first[task]; j < g->task_first[task + 1]; j++) {
		struct graph_instance *in = &g->instances[g->task_inst[j]];
		graph_running_module = in->module;
		if (g->blame != NULL && task < g->n_blame)
			atomic_store_explicit(&g->blame[task], in->module,
			    memory_order_relaxed);
		for (unsigned k = 0; k < in->type->n_inputs; k++)
			ip[k] = input_samples(g, &in->inputs[k], n);
		in->type->process(in->state, ip, in->outputs, n);
		for (unsigned o = 0; o < in->type->n_outputs; o++)
			if (guard_exceeds(in->outputs[o], n, BLOWUP_BITS)) {
				instance_blew_up(g, g->task_inst[j], n);
				break;
			}
		if (row != NULL) {
			t1 = graph_now_ns();
			cost_add(row, in->module, t1 - t0);
			t0 = t1;
		}
	}
	graph_running_module = -1;
}

/* Stage of every module: the highest stage of its sources, plus one when
 * the signal crosses between voice and global scope.  Delayed (loop) edges
 * do not count: they read the previous chunk. */
static void
stages_compute(const struct patch *p, const int *order, unsigned n_order,
    const int *rank, unsigned *stage)
{
	for (unsigned i = 0; i < n_order; i++) {
		int m = order[i];
		unsigned st = 0;
		for (unsigned c = 0; c < p->n_connections; c++) {
			const struct patch_connection *k = &p->connections[c];
			int from = k->from.module;
			if (k->to.module != m || from < 0 || rank[from] >= rank[m])
				continue;
			unsigned cand = stage[from] +
			    (p->modules[from].scope != p->modules[m].scope);
			if (cand > st)
				st = cand;
		}
		stage[m] = st;
	}
}

/* Task edges, collected while the tasks are laid out. */
struct edge_list {
	struct pool_edge *e;
	size_t n, cap;
};

/* Add the edge "task `to` waits for task `from`" (none within a task). */
static void
edge_add(struct edge_list *l, unsigned from, unsigned to)
{
	if (from == to)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->e = realloc(l->e, l->cap * sizeof *l->e);
		if (l->e == NULL)
			fatal("out of memory building the task plan");
	}
	l->e[l->n++] = (struct pool_edge){ from, to };
}

/* Partial sums a reduction tree over `count` sources takes: groups of
 * SUM_GROUP, level after level, until at most SUM_GROUP remain (none when
 * there are that few already). */
static unsigned
tree_sums(unsigned count)
{
	unsigned n = 0;
	while (count > SUM_GROUP) {
		count = (count + SUM_GROUP - 1) / SUM_GROUP;
		n += count;
	}
	return n;
}

/* Lay out one sum task adding `src[0 .. count)` in order into `out`,
 * charged to `module`; returns its task index. */
static unsigned
sum_task_add(struct graph *g, const float *const *src, unsigned count,
    float *out, int module, unsigned n_inst)
{
	struct graph_sum *s = &g->sums[g->n_sums];
	s->src = src;
	s->count = count;
	s->out = out;
	s->module = module;
	g->task_sum[g->n_tasks] = g->n_sums++;
	g->task_first[g->n_tasks] = n_inst;       /* no instances */
	return g->n_tasks++;
}

/*
 * Lay out the reduction tree of input `in` as tasks charged to `module`:
 * level 1 adds sources [0, SUM_GROUP), [SUM_GROUP, 2 SUM_GROUP), ... into
 * partial buffers, each task waiting for exactly the tasks that produce its
 * sources (sources no task produces this chunk add no edge); each further
 * level groups the partials below it the same way, until at most SUM_GROUP
 * remain.  in->partial then lists those for the reader to add, and their
 * tasks are in->partial_task onwards.  Every source's task must be laid out
 * already, which keeps the tasks in a valid serial order.
 */
static void
tree_build(struct graph *g, struct graph_input *in, int module,
    const unsigned *task_of, unsigned n_inst, struct edge_list *edges)
{
	const float *const *src = &g->sources[in->first];
	unsigned count = in->count, below = 0;

	for (int level = 1; count > SUM_GROUP; level++) {
		unsigned n_part = (count + SUM_GROUP - 1) / SUM_GROUP;
		const float **part = graph_alloc(g, n_part * sizeof *part);
		unsigned level_first = g->n_tasks;
		for (unsigned j = 0; j < n_part; j++) {
			unsigned lo = j * SUM_GROUP;
			unsigned hi = lo + SUM_GROUP < count ? lo + SUM_GROUP : count;
			float *out = graph_alloc(g, GRAPH_CHUNK * sizeof(float));
			unsigned t = sum_task_add(g, src + lo, hi - lo, out, module,
			    n_inst);
			part[j] = out;
			for (unsigned a = lo; a < hi; a++) {
				if (level > 1) {
					edge_add(edges, below + a, t);
					continue;
				}
				int inst = g->source_inst[in->first + a];
				if (inst < 0)
					continue;
				if (task_of[inst] == NO_TASK)
					fatal("internal error: a sum before its source");
				edge_add(edges, task_of[inst], t);
			}
		}
		src = part;
		count = n_part;
		below = level_first;
		in->partial = part;
		in->n_partial = n_part;
		in->partial_task = level_first;
	}
}

/* Lay out the task that sums engine output `in` (more than one source),
 * after its reduction tree if it has one, charged to the module of its
 * first source that a task produces (or to none).  The engine then only
 * copies in->sum: nothing is summed outside the pool. */
static void
out_sum_build(struct graph *g, struct graph_input *in,
    const unsigned *task_of, unsigned n_inst, struct edge_list *edges)
{
	int module = -1;
	for (unsigned s = 0; s < in->count && module < 0; s++)
		if (g->source_inst[in->first + s] >= 0)
			module = g->instances[g->source_inst[in->first + s]].module;
	tree_build(g, in, module, task_of, n_inst, edges);
	if (in->partial != NULL) {
		unsigned t = sum_task_add(g, in->partial, in->n_partial, in->sum,
		    module, n_inst);
		for (unsigned j = 0; j < in->n_partial; j++)
			edge_add(edges, in->partial_task + j, t);
	} else {
		unsigned t = sum_task_add(g, &g->sources[in->first], in->count,
		    in->sum, module, n_inst);
		for (unsigned s = 0; s < in->count; s++) {
			int inst = g->source_inst[in->first + s];
			if (inst >= 0)
				edge_add(edges, task_of[inst], t);
		}
	}
	in->by_task = 1;
}

/*
 * Group instances into tasks and build the pool's plan: per stage, one
 * task per voice holding that voice's modules of the stage, then per
 * global module the partial sums of its inputs with more than SUM_GROUP
 * sources and one task for the module; after the last stage the sums of
 * the engine outputs; last the background tasks.
 */
static void
tasks_build(struct graph *g, const struct patch *p, const int *order,
    unsigned n_order, const int *rank)
{
	unsigned stage[PATCH_MAX_MODULES], n_stages = 0;
	stages_compute(p, order, n_order, rank, stage);
	for (unsigned i = 0; i < n_order; i++)
		if (stage[order[i]] + 1 > n_stages)
			n_stages = stage[order[i]] + 1;

	/* partial sums: trees for global inputs, trees and a total per output */
	unsigned max_sums = 0;
	for (unsigned i = 0; i < g->n_instances; i++) {
		struct graph_instance *in = &g->instances[i];
		if (g->module_scope[in->module] == SCOPE_VOICE)
			continue;
		for (unsigned k = 0; k < in->type->n_inputs; k++)
			max_sums += tree_sums(in->inputs[k].count);
	}
	for (unsigned c = 0; c < g->n_outputs; c++)
		max_sums += tree_sums(g->engine_out[c].count) +
		    (g->engine_out[c].count > 1);
	g->sums = graph_alloc(g, (max_sums + 1) * sizeof *g->sums);

	/* task of each instance, to turn instance edges into task edges */
	unsigned max_tasks = 2 * g->n_instances + max_sums + 1;
	unsigned *task_of = xmalloc((g->n_instances + 1) * sizeof *task_of);
	for (unsigned i = 0; i <= g->n_instances; i++)
		task_of[i] = NO_TASK;
	g->task_first = graph_alloc(g, (max_tasks + 1) * sizeof(unsigned));
	g->task_inst = graph_alloc(g, (2 * g->n_instances + 1) * sizeof(unsigned));
	g->task_sum = graph_alloc(g, (max_tasks + 1) * sizeof(unsigned));
	for (unsigned t = 0; t <= max_tasks; t++)
		g->task_sum[t] = NO_SUM;
	struct edge_list edges = { 0 };
	unsigned n_inst = 0;
	for (unsigned st = 0; st < n_stages; st++) {
		for (unsigned v = 0; v < g->poly; v++) {
			unsigned start = n_inst;
			for (unsigned i = 0; i < n_order; i++) {
				int m = order[i];
				if (stage[m] != st || p->modules[m].scope != SCOPE_VOICE)
					continue;
				unsigned idx = g->module_first[m] + v;
				task_of[idx] = g->n_tasks;
				g->task_inst[n_inst++] = idx;
			}
			if (n_inst > start)
				g->task_first[g->n_tasks++] = start;
		}
		for (unsigned i = 0; i < n_order; i++) {
			int m = order[i];
			if (stage[m] != st || p->modules[m].scope == SCOPE_VOICE)
				continue;
			struct graph_instance *in = &g->instances[g->module_first[m]];
			for (unsigned k = 0; k < in->type->n_inputs; k++)
				tree_build(g, &in->inputs[k], m, task_of, n_inst, &edges);
			task_of[g->module_first[m]] = g->n_tasks;
			g->task_first[g->n_tasks++] = n_inst;
			g->task_inst[n_inst++] = g->module_first[m];
		}
	}
	for (unsigned c = 0; c < g->n_outputs; c++)
		if (g->engine_out[c].count > 1)
			out_sum_build(g, &g->engine_out[c], task_of, n_inst, &edges);
	/* background work (long convolution partitions): a task each, free to
	 * run beside everything else in the block */
	g->n_main_tasks = g->n_tasks;
	for (unsigned i = 0; i < g->n_instances; i++)
		if (g->instances[i].type->background != NULL) {
			g->task_first[g->n_tasks++] = n_inst;
			g->task_inst[n_inst++] = i;
		}
	g->task_first[g->n_tasks] = n_inst;
	if (g->n_sums != max_sums || g->n_tasks > max_tasks)
		fatal("internal error: %u sums laid out, %u counted", g->n_sums, max_sums);

	/* task edges from the instances' sources (undelayed ones only), or
	 * from the top partial sums of an input that has a tree */
	for (unsigned i = 0; i < g->n_instances; i++) {
		struct graph_instance *in = &g->instances[i];
		for (unsigned k = 0; k < in->type->n_inputs; k++) {
			const struct graph_input *gi = &in->inputs[k];
			if (gi->partial != NULL) {
				for (unsigned j = 0; j < gi->n_partial; j++)
					edge_add(&edges, gi->partial_task + j, task_of[i]);
				continue;
			}
			for (unsigned s = 0; s < gi->count; s++) {
				int src = g->source_inst[gi->first + s];
				if (src >= 0)
					edge_add(&edges, task_of[src], task_of[i]);
			}
		}
	}
	g->plan = pool_plan_create(g->n_tasks ? g->n_tasks : 1, edges.e, edges.n,
	    graph_run_task);
	if (g->plan == NULL)
		fatal("internal error: the task plan has a cycle");
	free(edges.e);
	free(task_of);
}

struct graph *
graph_compile(const struct patch *p, float rate, struct graph *old)
{
	/* not a _Static_assert: clang does not take float comparisons there */
	if (guard_limit_bits(GUARD_BLOWUP_LIMIT) != BLOWUP_BITS)
		fatal("BLOWUP_BITS is not the bits of GUARD_BLOWUP_LIMIT");
	struct graph *g = xcalloc(1, sizeof *g);
	g->rate = rate;
	g->n_inputs = p->n_inputs;
	g->n_outputs = p->n_outputs;
	g->n_modules = p->n_modules;
	g->poly = p->poly;
	g->mono = p->mono;
	g->route.gain = 1.0f;

	/* run order */
	unsigned char state[PATCH_MAX_MODULES] = { 0 };
	int order[PATCH_MAX_MODULES], rank[PATCH_MAX_MODULES];
	unsigned n_order = 0;
	for (unsigned m = 0; m < p->n_modules; m++)
		if (state[m] == UNSEEN)
			visit(p, (int)m, state, order, &n_order);
	for (unsigned i = 0; i < n_order; i++)
		rank[order[i]] = (int)i;

	/* instances, grouped by module, modules in run order */
	g->module_first = graph_alloc(g, (p->n_modules + 1) * sizeof(unsigned));
	g->module_count = graph_alloc(g, (p->n_modules + 1) * sizeof(unsigned));
	g->module_names = graph_alloc(g, (p->n_modules + 1) * PATCH_NAME_MAX);
	g->module_types = graph_alloc(g, (p->n_modules + 1) * sizeof(void *));
	g->module_scope = graph_alloc(g, p->n_modules + 1);
	g->module_texts = graph_alloc(g, (p->n_modules + 1) * PARAM_TEXT_MAX);
	g->module_params = graph_alloc(g, (p->n_modules + 1) * sizeof *g->module_params);
	for (unsigned i = 0; i < n_order; i++) {
		int m = order[i];
		g->module_first[m] = g->n_instances;
		g->module_count[m] = p->modules[m].scope == SCOPE_VOICE ? p->poly : 1;
		g->n_instances += g->module_count[m];
		memcpy(g->module_names[m], p->modules[m].name, PATCH_NAME_MAX);
		g->module_types[m] = p->modules[m].type;
		g->module_scope[m] = (unsigned char)p->modules[m].scope;
	}
	g->instances = graph_alloc(g, (g->n_instances + 1) * sizeof *g->instances);
	g->engine_in = graph_alloc(g, (g->n_inputs + 1) * sizeof(float *));
	for (unsigned c = 0; c < g->n_inputs; c++)
		g->engine_in[c] = graph_alloc(g, GRAPH_CHUNK * sizeof(float));

	for (unsigned i = 0; i < n_order; i++) {
		int m = order[i];
		const struct patch_module *pm = &p->modules[m];
		const struct module_type *t = pm->type;
		for (unsigned v = 0; v < g->module_count[m]; v++) {
			struct graph_instance *in = &g->instances[g->module_first[m] + v];
			in->type = t;
			in->module = m;
			in->voice = v;
			in->outputs = graph_alloc(g, (t->n_outputs + 1) * sizeof(float *));
			in->feedback = graph_alloc(g, (t->n_outputs + 1) * sizeof(float *));
			for (unsigned o = 0; o < t->n_outputs; o++)
				in->outputs[o] = graph_alloc(g, GRAPH_CHUNK * sizeof(float));
			in->inputs = graph_alloc(g, (t->n_inputs + 1) * sizeof *in->inputs);

			struct graph_instance *prev = find_old(old, p, m, v);
			int same_text = 0;
			if (prev != NULL) {
				/* continue the live state; the old graph lets go */
				in->state = prev->state;
				prev->owns_state = 0;
				same_text = strcmp(old->module_texts[prev->module], pm->text) == 0;
			} else {
				in->state = xaligned(module_state_size(t, rate));
				/* seed: module position and voice, stable per patch */
				t->init(in->state, rate, 0x9E3779B9u * (uint32_t)(m + 1) + v);
			}
			in->owns_state = 1;
			if (t->resource_load != NULL && !same_text)
				load_resource(g, in, pm, rate);
		}
		memcpy(g->module_params[m], pm->params, sizeof pm->params);
		memcpy(g->module_texts[m], pm->text, PARAM_TEXT_MAX);
	}
	g->params_pending = 1;

	/* wiring */
	g->cap_sources = count_sources(p);
	g->sources = graph_alloc(g, (g->cap_sources + 1) * sizeof(float *));
	g->source_inst = graph_alloc(g, (g->cap_sources + 1) * sizeof(int));
	for (unsigned i = 0; i < g->n_instances; i++) {
		struct graph_instance *in = &g->instances[i];
		for (unsigned k = 0; k < in->type->n_inputs; k++)
			gather(g, p, rank, in->module, (int)k, in->voice, &in->inputs[k]);
	}
	g->engine_out = graph_alloc(g, (g->n_outputs + 1) * sizeof *g->engine_out);
	g->engine_out_ptr = graph_alloc(g, (g->n_outputs + 1) * sizeof(float *));
	for (unsigned c = 0; c < g->n_outputs; c++)
		gather(g, p, rank, PATCH_IO_OUT, (int)c, 0, &g->engine_out[c]);

	tasks_build(g, p, order, n_order, rank);

	/* the outputs that loop edges read: a list, so that keeping them
	 * after each chunk does not walk every instance */
	for (int pass = 0; pass < 2; pass++) {
		g->n_loop_copies = 0;
		for (unsigned i = 0; i < g->n_instances; i++) {
			struct graph_instance *in = &g->instances[i];
			for (unsigned o = 0; o < in->type->n_outputs; o++) {
				if (in->feedback[o] == NULL)
					continue;
				if (pass == 1)
					g->loop_copies[g->n_loop_copies] =
					    (struct loop_copy){ in->feedback[o],
					    in->outputs[o] };
				g->n_loop_copies++;
			}
		}
		if (pass == 0)
			g->loop_copies = graph_alloc(g, (g->n_loop_copies + 1) *
			    sizeof *g->loop_copies);
	}

	/* blow-ups: the list, the counts, and a reset state per module type
	 * that needs one (shared by the modules of that type) */
	g->blown = graph_alloc(g, (g->n_instances + 1) * sizeof *g->blown);
	g->reset_count = graph_alloc(g, (p->n_modules + 1) * sizeof *g->reset_count);
	g->reset_peak = graph_alloc(g, (p->n_modules + 1) * sizeof *g->reset_peak);
	g->reset_taken = graph_alloc(g, (p->n_modules + 1) * sizeof *g->reset_taken);
	g->module_template = graph_alloc(g, (p->n_modules + 1) * sizeof(void *));
	for (unsigned m = 0; m < p->n_modules; m++) {
		const struct module_type *t = p->modules[m].type;
		if (t->reset != NULL)
			continue;
		for (unsigned k = 0; k < m && g->module_template[m] == NULL; k++)
			if (p->modules[k].type == t)
				g->module_template[m] = g->module_template[k];
		if (g->module_template[m] != NULL)
			continue;
		g->module_template[m] = graph_alloc(g, module_state_size(t, rate));
		t->init(g->module_template[m], rate, 0x9E3779B9u * (uint32_t)(m + 1));
	}

	g->voices = graph_alloc(g, sizeof *g->voices);
	voices_init(g->voices, p->poly);
	return g;
}

void
graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	pool_plan_free(g->plan);
	for (unsigned i = 0; i < g->n_released; i++)
		g->released[i].type->resource_free(g->released[i].res);
	for (unsigned i = 0; i < g->n_instances; i++) {
		struct graph_instance *in = &g->instances[i];
		if (in->has_pending && in->pending_res != NULL)
			in->type->resource_free(in->pending_res);   /* never handed over */
		if (in->owns_state && in->type->resources_drop != NULL)
			in->type->resources_drop(in->state);
		if (in->owns_state)
			free(in->state);
	}
	for (unsigned i = 0; i < g->n_allocations; i++)
		free(g->allocations[i]);
	free(g->allocations);
	free(g);
}

/* The samples an input reads this chunk: NULL when unconnected, the one
 * source as it is, the sum of several in their fixed order, or of the top
 * partial sums of its tree in theirs; for an engine output with several
 * sources, what its sum task left. */
static const float *
input_samples(struct graph *g, const struct graph_input *in, unsigned n)
{
	if (in->count == 0)
		return NULL;
	if (in->by_task)
		return in->sum;
	if (in->partial != NULL) {
		sum_into(in->sum, in->partial, in->n_partial, n);
		return in->sum;
	}
	if (in->count == 1)
		return g->sources[in->first];
	sum_into(in->sum, &g->sources[in->first], in->count, n);
	return in->sum;
}

/* Send one note event to the instances of every module that takes events:
 * voice modules on `voice` (every voice when it is negative), global ones
 * once. */
static void
deliver(struct graph *g, int voice, const struct note_event *ev)
{
	for (unsigned m = 0; m < g->n_modules; m++) {
		const struct module_type *t = g->module_types[m];
		struct graph_instance *first = &g->instances[g->module_first[m]];
		if (t->event == NULL)
			continue;
		if (g->module_scope[m] != SCOPE_VOICE)
			t->event(first->state, ev);
		else if (voice >= 0 && (unsigned)voice < g->module_count[m])
			t->event(first[voice].state, ev);
		else if (voice < 0)
			for (unsigned v = 0; v < g->module_count[m]; v++)
				t->event(first[v].state, ev);
	}
}

/* ------------------------------------------------------------ voice routing
 * Notes become voices here: in a polyphonic patch through the voice
 * allocator (free, then oldest released, then oldest held); in a mono patch
 * to voice 0 with a stack of held notes, the last one sounding and legato
 * between them.  The sustain pedal defers note offs; all notes off releases
 * everything; all sound off also fades the output out until the next note.
 */

/* Release `note` now: the voice that holds it gets its note off; in mono,
 * the previous held note comes back legato. */
static void
note_release(struct graph *g, unsigned frame, unsigned note)
{
	struct route_state *rs = &g->route;
	struct note_event ev = { .frame = frame, .kind = NOTE_EVENT_OFF, .note = (uint8_t)note };

	if (!g->mono) {
		int v = voices_note_off(g->voices, note);
		if (v >= 0)
			deliver(g, v, &ev);
		return;
	}
	unsigned i = 0;
	while (i < rs->n_held && rs->held[i] != note)
		i++;
	if (i == rs->n_held)
		return;
	int was_top = i == rs->n_held - 1;
	memmove(&rs->held[i], &rs->held[i + 1], rs->n_held - i - 1);
	memmove(&rs->held_vel[i], &rs->held_vel[i + 1], rs->n_held - i - 1);
	rs->n_held--;
	if (!was_top)
		return;
	if (rs->n_held > 0) {
		struct note_event back = {
			.frame = frame, .kind = NOTE_EVENT_ON,
			.note = rs->held[rs->n_held - 1],
			.velocity = rs->held_vel[rs->n_held - 1],
		};
		deliver(g, 0, &back);
	} else {
		deliver(g, 0, &ev);
	}
}

/* Start `note`: a voice from the allocator, or voice 0 in mono. */
static void
note_start(struct graph *g, const struct note_event *ev)
{
	struct route_state *rs = &g->route;

	rs->muted = 0;
	if (rs->sustained[ev->note]) {
		/* striking a sustained note again ends its old voice */
		rs->sustained[ev->note] = 0;
		note_release(g, ev->frame, ev->note);
	}
	if (g->mono) {
		note_release(g, ev->frame, ev->note);  /* no duplicate in the stack */
		if (rs->n_held == sizeof rs->held) {
			memmove(rs->held, rs->held + 1, rs->n_held - 1);
			memmove(rs->held_vel, rs->held_vel + 1, rs->n_held - 1);
			rs->n_held--;
		}
		rs->held[rs->n_held] = ev->note;
		rs->held_vel[rs->n_held++] = ev->velocity;
		deliver(g, 0, ev);
		return;
	}
	int stolen = 0;
	int v = voices_note_on(g->voices, ev->note, ev->velocity, &stolen);
	struct note_event out = *ev;
	if (stolen)
		out.kind = NOTE_EVENT_STEAL;
	deliver(g, v, &out);
}

/* Release every note at `frame`, pedal or not. */
static void
release_all(struct graph *g, unsigned frame)
{
	struct route_state *rs = &g->route;
	memset(rs->sustained, 0, sizeof rs->sustained);
	rs->sustain = 0;
	while (rs->n_held > 0)
		note_release(g, frame, rs->held[rs->n_held - 1]);
	for (unsigned note = 0; note < 128; note++) {
		int v;
		while ((v = voices_note_off(g->voices, note)) >= 0) {
			struct note_event ev = {
				.frame = frame, .kind = NOTE_EVENT_OFF, .note = (uint8_t)note,
			};
			deliver(g, v, &ev);
		}
	}
}

/* Route the queued events that fall inside [start, start + n) to voices. */
static void
route_events(struct graph *g, unsigned start, unsigned n, unsigned *next)
{
	struct route_state *rs = &g->route;

	while (*next < g->n_events && g->events[*next].frame < start + n) {
		const struct graph_event *e = &g->events[(*next)++];
		struct note_event ev = {
			.frame = e->frame - start,
			.kind = e->kind,
			.note = e->note,
			.velocity = e->velocity,
			.amount = e->amount,
		};
		switch (e->kind) {
		case NOTE_EVENT_ON:
			note_start(g, &ev);
			break;
		case NOTE_EVENT_OFF:
			if (rs->sustain)
				rs->sustained[e->note] = 1;
			else
				note_release(g, ev.frame, e->note);
			break;
		case NOTE_EVENT_SUSTAIN:
			if (e->amount >= 0.5f) {
				rs->sustain = 1;
				break;
			}
			rs->sustain = 0;
			for (unsigned note = 0; note < 128; note++)
				if (rs->sustained[note]) {
					rs->sustained[note] = 0;
					note_release(g, ev.frame, note);
				}
			break;
		case NOTE_EVENT_SOUND_OFF:
			rs->muted = 1;
			/* fall through */
		case NOTE_EVENT_ALL_OFF:
			release_all(g, ev.frame);
			break;
		default:
			deliver(g, -1, &ev);   /* bend, mod wheel: every voice */
			break;
		}
	}
}

/* Copy one output chunk, fading it out (or back in) after all sound off. */
static void
output_chunk(struct graph *g, float *dst, const float *src, unsigned n,
    float from, float to)
{
	if (src == NULL || (from == 0.0f && to == 0.0f)) {
		memset(dst, 0, n * sizeof(float));
	} else if (from == 1.0f && to == 1.0f) {
		memcpy(dst, src, n * sizeof(float));
	} else {
		for (unsigned i = 0; i < n; i++)
			dst[i] = src[i] * (from + (to - from) * (float)(i + 1) / (float)n);
	}
	(void)g;
}

/* Run one chunk of n <= GRAPH_CHUNK frames through every task, on the
 * pool when there is one, then keep this chunk's outputs for the loop edges
 * that read them next time. */
static void
run_chunk(struct graph *g, unsigned n)
{
	g->chunk_frames = n;
	if (g->pool != NULL && pool_run(g->pool, g->plan, g) == 0) {
		/* ran on the pool */
	} else {
		for (unsigned t = 0; t < g->n_tasks; t++)
			graph_run_task(g, t);
	}
	reset_blown(g);
	for (unsigned k = 0; k < g->n_loop_copies; k++)
		memcpy(g->loop_copies[k].to, g->loop_copies[k].from,
		    n * sizeof(float));
}

void
graph_process(struct graph *g, const float *const *in, float *const *out,
    unsigned frames)
{
	unsigned next_event = 0;

	if (g->params_pending) {
		/* every parameter, also of adopted instances: the patch may have
		 * changed while the graph was built; smoothed, so no click */
		for (unsigned i = 0; i < g->n_instances; i++) {
			struct graph_instance *gi = &g->instances[i];
			for (unsigned k = 0; k < gi->type->n_params; k++)
				gi->type->set_param(gi->state, k,
				    g->module_params[gi->module][k]);
			if (gi->has_pending) {
				/* the new file takes over, click-free; what the module
				 * lets go of is freed with this graph, off the RT path */
				void *old_res = gi->type->resource_swap(gi->state, gi->pending_res);
				gi->has_pending = 0;
				if (old_res != NULL)
					g->released[g->n_released++] =
					    (struct released){ gi->type, old_res };
			}
		}
		g->params_pending = 0;
	}
	for (unsigned done = 0; done < frames; ) {
		unsigned n = frames - done < GRAPH_CHUNK ? frames - done : GRAPH_CHUNK;
		for (unsigned c = 0; c < g->n_inputs; c++) {
			if (in != NULL && in[c] != NULL)
				memcpy(g->engine_in[c], in[c] + done, n * sizeof(float));
			else
				memset(g->engine_in[c], 0, n * sizeof(float));
		}
		route_events(g, done, n, &next_event);
		run_chunk(g, n);
		float from = g->route.gain, to = g->route.muted ? 0.0f : 1.0f;
		for (unsigned c = 0; c < g->n_outputs; c++)
			output_chunk(g, out[c] + done,
			    input_samples(g, &g->engine_out[c], n), n, from, to);
		g->route.gain = to;
		done += n;
	}
	g->n_events = 0;
}

/* Queue an event keeping the queue sorted by frame (stable). */
static int
queue_event(struct graph *g, const struct graph_event *e)
{
	if (g->n_events == GRAPH_MAX_EVENTS)
		return -1;
	unsigned i = g->n_events++;
	while (i > 0 && g->events[i - 1].frame > e->frame) {
		g->events[i] = g->events[i - 1];
		i--;
	}
	g->events[i] = *e;
	return 0;
}

int
graph_note_on(struct graph *g, unsigned frame, unsigned note, unsigned velocity)
{
	struct note_event ev = {
		.frame = frame, .kind = NOTE_EVENT_ON, .note = (uint8_t)(note & 127),
		.velocity = (uint8_t)(velocity > 127 ? 127 : velocity),
	};
	return graph_event(g, &ev);
}

int
graph_note_off(struct graph *g, unsigned frame, unsigned note)
{
	struct note_event ev = {
		.frame = frame, .kind = NOTE_EVENT_OFF, .note = (uint8_t)(note & 127),
	};
	return graph_event(g, &ev);
}

int
graph_event(struct graph *g, const struct note_event *ev)
{
	struct graph_event e = {
		.frame = ev->frame, .kind = ev->kind, .note = (uint8_t)(ev->note & 127),
		.velocity = ev->velocity, .amount = ev->amount,
	};
	if (e.kind == NOTE_EVENT_ON)
		e.velocity = (uint8_t)(e.velocity < 1 ? 1 : e.velocity > 127 ? 127 : e.velocity);
	return queue_event(g, &e);
}



void
graph_set_param(struct graph *g, int module, unsigned param, float value)
{
	if (module < 0 || (unsigned)module >= g->n_modules)
		return;
	const struct module_type *t = g->module_types[module];
	if (param >= t->n_params)
		return;
	for (unsigned v = 0; v < g->module_count[module]; v++)
		t->set_param(g->instances[g->module_first[module] + v].state, param,
		    value);
	g->module_params[module][param] = value;
}

void
graph_continue(struct graph *g, const struct graph *old)
{
	if (old == NULL)
		return;
	if (old->poly == g->poly)
		*g->voices = *old->voices;
	if (old->mono == g->mono)
		g->route = old->route;
}


unsigned
graph_instance_count(const struct graph *g)
{
	return g->n_instances;
}

unsigned
graph_task_count(const struct graph *g)
{
	return g->n_tasks;
}

void
graph_set_pool(struct graph *g, struct pool *pool)
{
	g->pool = pool;
}



void
graph_set_blame(struct graph *g, _Atomic int32_t *slots, unsigned n)
{
	g->blame = slots;
	g->n_blame = n;
}

void
graph_set_cost(struct graph *g, _Atomic uint64_t (*rows)[PATCH_MAX_MODULES])
{
	g->cost = rows;
}

unsigned
graph_take_resets(struct graph *g, struct graph_reset *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned m = 0; m < g->n_modules && n < max; m++) {
		uint32_t count = atomic_load_explicit(&g->reset_count[m],
		    memory_order_acquire);
		if (count == g->reset_taken[m])
			continue;
		uint32_t bits = atomic_exchange_explicit(&g->reset_peak[m], 0,
		    memory_order_relaxed);
		struct graph_reset *r = &out[n++];
		r->module = (int)m;
		r->name = g->module_names[m];
		r->type = g->module_types[m]->name;
		r->count = count - g->reset_taken[m];
		r->nonfinite = bits >= 0x7f800000u;
		memcpy(&r->peak, &bits, sizeof r->peak);
		if (r->nonfinite)
			r->peak = 0.0f;
		g->reset_taken[m] = count;
	}
	return n;
}

const char *
graph_load_error(const struct graph *g)
{
	return g->load_error[0] != '\0' ? g->load_error : NULL;
}
