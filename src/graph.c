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
 *
 * An edit changes only what it touches.  Compiled against the graph that
 * ran before, every instance that exists in both (same name, type, scope
 * and voice) keeps its state, and every connection keeps sounding; a
 * connection the edit adds fades in over RAMP_SECONDS, and one it removes
 * fades out: it stays in the new graph as a ghost source, read after the
 * input's own sum, until its ramp is over.  A ramp's gain is a function of
 * the frames run since the edit, handed on from graph to graph at the swap
 * (graph_continue) by the connection's identity (its ends' names, types and
 * ports), so quick edits in a row, or graphs the engine never ran, continue
 * a fade where it stands.  A finished fade-in reads exactly as a plain
 * source and a finished ghost is skipped, so once the ramps are over the
 * output is bit-identical to that of a graph compiled without them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"
#include "guard.h"
#include "log.h"
#include "midimap.h"
#include "pool.h"
#include "voices.h"

/* Sources one partial sum adds, at most.  Fixed, and so the grouping: it
 * depends on an input's source count only, never on the threads, which
 * keeps the output bit-identical.  16 chunk buffers (16 KiB) and the sum
 * stay in L1, an input of 4096 voices takes 3 levels (256 + 16 partials,
 * then the reader adds 16), and a group's sum runs on the thread of the
 * voice task that finishes it, while its output is still in cache. */
#define SUM_GROUP 16

/* Quiet, after its release, before a voice sleeps (voices_sleep). */
#define SLEEP_SECONDS 0.1f

_Static_assert(VOICES_MAX >= PATCH_MAX_POLY,
    "the voice allocator must hold every voice");

/* Length of a connection's fade in or out when an edit adds or removes it,
 * seconds (raised cosine). */
#define RAMP_SECONDS 0.005f

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
	int ramped;              /* some of its sources fade in (an edit) */
	unsigned ghost_first;    /* index into graph->ghost_src */
	unsigned n_ghost;        /* removed connections fading out, added last */
	float idle;              /* the value the module reads unconnected
				    (NULL), when an edit connects or
				    disconnects it wholly; else 0 */
};

/* A connection's fade across an edit: in (added) or out (removed). */
struct graph_ramp {
	uint64_t key;            /* the connection's identity (conn_key) */
	int fade_in;             /* 1: added, fades in; 0: removed, a ghost */
	uint64_t base;           /* frames of the fade done before this graph's
				    first frame; set by graph_continue */
};

/* One partial sum (or an engine output's total), run as a task of its own:
 * out = src[0] + src[1] + ... in this order. */
struct graph_sum {
	const float *const *src;
	unsigned count;          /* 1 .. SUM_GROUP */
	const int *ramp;         /* per source: its fade (graph ramps), -1 for
				    none; or NULL: no source fades */
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
	struct graph_instance *prev;    /* the instance it continues, or NULL */
	uint32_t leaving;        /* voice modules: bit o set when output o
				    leaves the voice (feeds a global module
				    or an engine output) */
	uint8_t heard;           /* a leaving output went above
				    GRAPH_SOUNDING_PEAK this block; set by
				    the thread that runs the instance, read
				    and cleared by graph_process after the
				    block's last chunk */
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

/* A chunk buffer copied to another: a loop edge's delayed samples. */
struct loop_copy {
	float *to;
	const float *from;
};

/* A queued note event, in frames from the start of the coming block. */
struct graph_event {
	unsigned frame;
	unsigned char kind;      /* enum note_event_kind, BEND for bends */
	unsigned char note;
	unsigned char velocity;
	unsigned char channel;   /* 0..15, NOTE_CHANNEL_ANY */
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
	int *source_ramp;                      /* fade of each source, or -1 */
	unsigned n_sources, cap_sources;
	/* fades across the edit that made this graph (see the top) */
	const struct graph *compiled_from;     /* the graph compiled against:
						  compared, never read */
	unsigned ramp_len;                     /* frames of a fade */
	float *ramp_gain;                      /* ramp_len + 1: raised cosine */
	struct graph_ramp *ramps;
	unsigned n_ramps;
	struct patch_connection *conns;        /* the patch's connections */
	uint64_t *conn_key;                    /* their identities */
	int *conn_ramp;                        /* their fades in, or -1 */
	unsigned n_conns;
	struct patch_connection *ghosts;       /* removed connections fading
						  out, in this graph's indices */
	int *ghost_conn_ramp;                  /* their fades */
	unsigned n_ghosts;
	const float **ghost_src;               /* ghosts' source buffers */
	int *ghost_ramp;                       /* and their fades */
	int *ghost_inst;                       /* and instances (-1: inputs) */
	unsigned n_ghost_src, cap_ghost_src;
	struct loop_copy *fb_carry;            /* loop-edge buffers to take
						  over from compiled_from */
	unsigned n_fb_carry;
	_Atomic uint64_t frames_run;           /* frames processed so far */
	uint64_t chunk_pos;                    /* frames_run at this chunk */
	float **engine_in;                     /* n_inputs chunk buffers */
	struct graph_input *engine_out;        /* n_outputs gathered inputs */
	const float **engine_out_ptr;          /* scratch, n_outputs */
	struct voices *voices;
	unsigned char *voice_heard;            /* scratch: per voice, poly */
	/* sleeping voices (see voices_sleep): per voice, poly of each */
	int voices_may_sleep;                  /* poly, and a voice module
						  takes note events */
	unsigned char *voice_asleep;           /* its instances do not run */
	uint32_t *voice_quiet;                 /* frames since it last sounded */
	uint32_t sleep_after;                  /* frames of quiet before sleep */
	unsigned *leaving_inst;                /* instances with leaving outputs */
	unsigned n_leaving;
	unsigned voices_sounding;              /* at the last block's end */
	unsigned poly;
	unsigned lane_group;                   /* voices per voice task (see
						  lane_group_for) */
	enum lanes_path lane_path;             /* their lane kernels' path */
	int mono;
	struct route_state route;
	struct graph_event events[GRAPH_MAX_EVENTS];
	unsigned n_events;
	/* controller mappings (src/midimap.h), copied from the patch */
	struct patch_map *maps;
	unsigned n_maps;
	float *map_last;                       /* per mapping: the value it last
						  set (whole module), NAN: none */
	struct midimap_cc14 cc14;
	struct dsp_tempo tempo;                /* at the next block's first
						  frame (graph_set_tempo) */
	/* tasks: task t runs instances task_inst[task_first[t] .. task_first[t+1]) */
	unsigned n_tasks;                      /* all tasks: main, then background */
	unsigned n_main_tasks;
	unsigned *task_first;
	unsigned *task_inst;
	unsigned *task_sum;                    /* per task: index in sums, or NO_SUM */
	struct graph_sum *sums;                /* partial sums, in task order */
	unsigned n_sums;
	struct pool_plan *plan;
	struct loop_copy *loop_copies;
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
	/* the probe (graph_set_probe): module, output, where to sum it */
	int probe_module;                      /* -1: none */
	unsigned probe_port;
	float *probe_dst;
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
static float input_idle(const struct graph *g, const struct graph_input *gi,
    const struct port_desc *port);

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

/* Append `buf`, produced by instance `inst` (-1: by none this chunk) and
 * fading by ramp `ramp` (-1: none), to the source list of `in`. */
static void
add_source(struct graph *g, const float *buf, int inst, int ramp,
    struct graph_input *in)
{
	if (g->n_sources == g->cap_sources)
		fatal("internal error: more sources than count_sources said");
	g->source_inst[g->n_sources] = inst;
	g->source_ramp[g->n_sources] = ramp;
	g->sources[g->n_sources++] = buf;
	in->count++;
	if (ramp >= 0)
		in->ramped = 1;
}

/* Append a ghost source (a removed connection fading out) to `in`. */
static void
add_ghost(struct graph *g, const float *buf, int inst, int ramp,
    struct graph_input *in)
{
	if (g->n_ghost_src == g->cap_ghost_src)
		fatal("internal error: more ghost sources than counted");
	g->ghost_src[g->n_ghost_src] = buf;
	g->ghost_inst[g->n_ghost_src] = inst;
	g->ghost_ramp[g->n_ghost_src++] = ramp;
	in->n_ghost++;
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
		int ramp = g->conn_ramp != NULL ? g->conn_ramp[c] : -1;
		if (k->from.module == PATCH_IO_IN) {
			add_source(g, g->engine_in[k->from.port], -1, ramp, in);
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
			    delayed ? -1 : (int)(src - g->instances), ramp, in);
		}
	}
	/* the fading-out ghosts, never delayed (ramps_setup made sure) */
	in->ghost_first = g->n_ghost_src;
	in->n_ghost = 0;
	for (unsigned c = 0; c < g->n_ghosts; c++) {
		const struct patch_connection *k = &g->ghosts[c];
		int ramp = g->ghost_conn_ramp[c];
		if (k->to.module != to_module || k->to.port != to_port)
			continue;
		if (k->from.module == PATCH_IO_IN) {
			add_ghost(g, g->engine_in[k->from.port], -1, ramp, in);
			continue;
		}
		int from = k->from.module;
		int from_voice = p->modules[from].scope == SCOPE_VOICE;
		int to_voice = to_module >= 0 && p->modules[to_module].scope == SCOPE_VOICE;
		unsigned v0 = from_voice && !to_voice ? 0 : voice;
		unsigned v1 = from_voice && !to_voice ? g->module_count[from] : voice + 1;
		for (unsigned v = v0; v < v1; v++) {
			struct graph_instance *src = instance_of(g, from, v);
			add_ghost(g, src->outputs[k->from.port],
			    (int)(src - g->instances), ramp, in);
		}
	}
	if (in->count > 1 || in->ramped || in->n_ghost > 0)
		in->sum = graph_alloc(g, GRAPH_CHUNK * sizeof(float));
}

/* Number of source buffers all inputs need, to size g->sources: a
 * connection that touches a voice module gives poly entries (voice -> voice
 * and global -> voice: one per voice instance; voice -> global or out: one
 * instance reads every voice), any other one entry. */
static unsigned
count_sources(const struct patch *p, const struct patch_connection *conns,
    unsigned n_conns)
{
	unsigned n = 0;
	for (unsigned c = 0; c < n_conns; c++) {
		const struct patch_connection *k = &conns[c];
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


/* FNV-1a over `n` bytes, continuing from `h`. */
static uint64_t
fnv(uint64_t h, const void *data, size_t n)
{
	const unsigned char *b = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* One end of a connection hashed into `h`: its port, and the engine's
 * side or the module's name, type and scope. */
static uint64_t
end_key(uint64_t h, const struct graph *g, struct patch_port e)
{
	h = fnv(h, &e.port, sizeof e.port);
	if (e.module < 0)
		return fnv(h, &e.module, sizeof e.module);
	h = fnv(h, g->module_names[e.module], strlen(g->module_names[e.module]) + 1);
	h = fnv(h, &g->module_types[e.module], sizeof g->module_types[e.module]);
	return fnv(h, &g->module_scope[e.module], 1);
}

/* A connection's identity, the same in every graph that has it (module
 * indices may differ; names, types, scopes and ports may not). */
static uint64_t
conn_key(const struct graph *g, const struct patch_connection *k)
{
	return end_key(end_key(0xcbf29ce484222325ull, g, k->from), g, k->to);
}

/* Index of `key` in keys[0 .. n), or -1. */
static int
key_index(const uint64_t *keys, unsigned n, uint64_t key)
{
	for (unsigned i = 0; i < n; i++)
		if (keys[i] == key)
			return (int)i;
	return -1;
}

/* Index of the ramp with `key` in g, or -1. */
static int
ramp_index(const struct graph *g, uint64_t key)
{
	for (unsigned i = 0; i < g->n_ramps; i++)
		if (g->ramps[i].key == key)
			return (int)i;
	return -1;
}

/* Add a fade for the connection `key`; returns its index. */
static int
ramp_add(struct graph *g, uint64_t key, int fade_in)
{
	g->ramps[g->n_ramps] = (struct graph_ramp){ key, fade_in, 0 };
	return (int)g->n_ramps++;
}

/* End `e` of a connection of `old` as an end in patch `p` (the graph being
 * compiled, g): the module of the same name, type and scope.  0 when there
 * is one, -1 when the edit removed it. */
static int
end_map(const struct graph *old, const struct graph *g, const struct patch *p,
    struct patch_port e, int output, struct patch_port *out)
{
	*out = e;
	if (e.module < 0)
		return (unsigned)e.port < (output ? g->n_inputs : g->n_outputs) ? 0 : -1;
	int m = patch_find_module(p, old->module_names[e.module]);
	if (m < 0 || p->modules[m].type != old->module_types[e.module] ||
	    p->modules[m].scope != old->module_scope[e.module])
		return -1;
	out->module = m;
	return 0;
}

/* Keep connection `k` of `old` (identity `key`), which the patch no longer
 * has, as a ghost fading out, when both its ends are still there and its
 * source runs before its destination (no loop delay: the ghost reads the
 * buffer its source is writing). */
static void
ghost_add(struct graph *g, const struct patch *p, const struct graph *old,
    const struct patch_connection *k, uint64_t key, const int *rank)
{
	struct patch_connection to;
	if (key_index(g->conn_key, g->n_conns, key) >= 0 || ramp_index(g, key) >= 0)
		return;
	if (end_map(old, g, p, k->from, 1, &to.from) != 0 ||
	    end_map(old, g, p, k->to, 0, &to.to) != 0)
		return;
	if (to.from.module >= 0 && to.to.module >= 0 &&
	    rank[to.from.module] >= rank[to.to.module])
		return;
	g->ghosts[g->n_ghosts] = to;
	g->ghost_conn_ramp[g->n_ghosts++] = ramp_add(g, key, 0);
}

/*
 * The fades of the edit from `old` to patch `p`: a connection `old` lacks
 * fades in; one that `old` still fades in goes on fading in, and one that
 * `old` fades out goes on fading out, unless `old` has run long enough for
 * every fade of its own to be over; a connection the edit removed fades out
 * as a ghost.  Where a fade stands is settled at the swap (graph_continue).
 */
static void
ramps_setup(struct graph *g, const struct patch *p, const struct graph *old,
    const int *rank)
{
	g->compiled_from = old;
	g->ramp_len = (unsigned)lroundf(RAMP_SECONDS * g->rate);
	if (g->ramp_len < 1)
		g->ramp_len = 1;
	g->ramp_gain = graph_alloc(g, (g->ramp_len + 1) * sizeof(float));
	for (unsigned i = 0; i <= g->ramp_len; i++)
		g->ramp_gain[i] = (float)(0.5 - 0.5 * cos(M_PI * i / g->ramp_len));
	g->ramp_gain[0] = 0.0f;
	g->ramp_gain[g->ramp_len] = 1.0f;
	g->n_conns = p->n_connections;
	g->conns = graph_alloc(g, (g->n_conns + 1) * sizeof *g->conns);
	g->conn_key = graph_alloc(g, (g->n_conns + 1) * sizeof *g->conn_key);
	g->conn_ramp = graph_alloc(g, (g->n_conns + 1) * sizeof *g->conn_ramp);
	memcpy(g->conns, p->connections, g->n_conns * sizeof *g->conns);
	for (unsigned c = 0; c < g->n_conns; c++) {
		g->conn_key[c] = conn_key(g, &g->conns[c]);
		g->conn_ramp[c] = -1;
	}
	if (old == NULL)
		return;
	int old_fading = atomic_load_explicit(&old->frames_run,
	    memory_order_relaxed) < old->ramp_len;
	unsigned max_ghosts = old->n_conns + old->n_ghosts;
	g->ramps = graph_alloc(g, (g->n_conns + max_ghosts + 1) * sizeof *g->ramps);
	g->ghosts = graph_alloc(g, (max_ghosts + 1) * sizeof *g->ghosts);
	g->ghost_conn_ramp = graph_alloc(g, (max_ghosts + 1) * sizeof(int));
	for (unsigned c = 0; c < g->n_conns; c++) {
		int j = key_index(old->conn_key, old->n_conns, g->conn_key[c]);
		if (j < 0 || (old_fading && old->conn_ramp[j] >= 0))
			g->conn_ramp[c] = ramp_add(g, g->conn_key[c], 1);
	}
	for (unsigned j = 0; j < old->n_conns; j++)
		ghost_add(g, p, old, &old->conns[j], old->conn_key[j], rank);
	if (old_fading)
		for (unsigned j = 0; j < old->n_ghosts; j++)
			ghost_add(g, p, old, &old->ghosts[j],
			    old->ramps[old->ghost_conn_ramp[j]].key, rank);
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

/* Gain of fade `r` at frame i of the running chunk: a fade in rises
 * along the raised cosine to exactly 1, a ghost falls to exactly 0. */
static inline float
ramp_gain(const struct graph *g, int r, unsigned i)
{
	const struct graph_ramp *rp = &g->ramps[r];
	uint64_t pos = g->chunk_pos + rp->base + i + 1;
	if (pos >= g->ramp_len)
		return rp->fade_in ? 1.0f : 0.0f;
	return g->ramp_gain[rp->fade_in ? pos : g->ramp_len - pos];
}

/* Whether fade `r` is still under way in the running chunk (a finished
 * fade in reads as a plain source, a finished ghost as none). */
static inline int
ramp_running(const struct graph *g, int r)
{
	return g->chunk_pos + g->ramps[r].base + 1 < g->ramp_len;
}

/* sum_into with fades: source s is scaled by fade ramp[s] while that runs
 * (ramp NULL: none fades).  With no fade running it is sum_into itself, so
 * the rounding is that of a graph without fades. */
static void
sum_ramped(const struct graph *g, float *restrict out, const float *const *src,
    const int *ramp, unsigned count, unsigned n)
{
	int any = 0;
	for (unsigned s = 0; ramp != NULL && s < count && !any; s++)
		any = ramp[s] >= 0 && ramp_running(g, ramp[s]);
	if (!any) {
		sum_into(out, src, count, n);
		return;
	}
	for (unsigned s = 0; s < count; s++) {
		const float *x = src[s];
		int r = ramp[s];
		if (r >= 0 && ramp_running(g, r)) {
			for (unsigned i = 0; i < n; i++) {
				float y = x[i] * ramp_gain(g, r, i);
				out[i] = s == 0 ? y : out[i] + y;
			}
		} else if (s == 0) {
			memcpy(out, x, n * sizeof(float));
		} else {
			for (unsigned i = 0; i < n; i++)
				out[i] += x[i];
		}
	}
}

/* The bits of GUARD_BLOWUP_LIMIT (guard_limit_bits(1000.0f)). */
#define BLOWUP_BITS 0x447a0000u
/* The bits of GRAPH_SOUNDING_PEAK (guard_limit_bits(1e-5f)). */
#define SOUNDING_BITS 0x3727c5acu

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

/* Whether one of instance `in`'s outputs that leave its voice peaks above
 * GRAPH_SOUNDING_PEAK in this chunk's n frames (after the blow-up guard:
 * a silenced output is 0).  The guard's branch-free pass, no peak kept. */
static int
leaving_heard(const struct graph_instance *in, unsigned n)
{
	for (unsigned o = 0; o < in->type->n_outputs; o++)
		if ((in->leaving & (1u << o)) &&
		    guard_exceeds(in->outputs[o], n, SOUNDING_BITS))
			return 1;
	return 0;
}

/* Run instances inst[0 .. lanes), the same module in voices of one group,
 * through the type's lane kernel (dsp/lanes.h): each lane's inputs
 * gathered as process would have them. */
static void
run_lanes(struct graph *g, const unsigned *inst, unsigned lanes, unsigned n)
{
	const float *ip[LANES_MAX][MODULE_MAX_PORTS];
	const float *const *in_rows[LANES_MAX];
	float *const *out_rows[LANES_MAX];
	void *self[LANES_MAX];
	const struct module_type *type = g->instances[inst[0]].type;

	for (unsigned l = 0; l < lanes; l++) {
		struct graph_instance *in = &g->instances[inst[l]];
		for (unsigned k = 0; k < type->n_inputs; k++)
			ip[l][k] = input_samples(g, &in->inputs[k], n);
		self[l] = in->state;
		in_rows[l] = ip[l];
		out_rows[l] = in->outputs;
	}
	type->process_lanes(self, in_rows, out_rows, lanes, n, g->lane_path);
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
		sum_ramped(g, s->out, s->src, s->ramp, s->count, n);
		graph_running_module = -1;
		if (row != NULL && s->module >= 0)
			cost_add(row, s->module, graph_now_ns() - t0);
		return;
	}
	if (task >= g->n_main_tasks) {
		struct graph_instance *in = &g->instances[g->task_inst[g->task_first[task]]];
		if (g->module_scope[in->module] == SCOPE_VOICE &&
		    g->voice_asleep[in->voice])
			return;         /* its process sleeps too */
		graph_running_module = in->module;
		in->type->background(in->state);
		graph_running_module = -1;
		if (row != NULL)
			cost_add(row, in->module, graph_now_ns() - t0);
		return;
	}
	unsigned end = g->task_first[task + 1];
	for (unsigned j = g->task_first[task]; j < end; ) {
		struct graph_instance *in = &g->instances[g->task_inst[j]];
		graph_running_module = in->module;
		if (g->blame != NULL && task < g->n_blame)
			atomic_store_explicit(&g->blame[task], in->module,
			    memory_order_relaxed);
		/* a voice group's instances of one module, those awake: side
		 * by side through the type's lane kernel, or one by one */
		unsigned run = 1, awake[LANES_MAX], lanes = 0;
		int voice = g->module_scope[in->module] == SCOPE_VOICE;
		if (voice)
			while (j + run < end && run < LANES_MAX &&
			    g->instances[g->task_inst[j + run]].module == in->module)
				run++;
		for (unsigned l = 0; l < run; l++)
			if (!voice || !g->voice_asleep[g->instances[g->task_inst[j + l]].voice])
				awake[lanes++] = g->task_inst[j + l];
		j += run;
		if (lanes > 1 && in->type->process_lanes != NULL &&
		    g->lane_path != LANES_SCALAR) {
			run_lanes(g, awake, lanes, n);
		} else {
			for (unsigned l = 0; l < lanes; l++) {
				in = &g->instances[awake[l]];
				for (unsigned k = 0; k < in->type->n_inputs; k++)
					ip[k] = input_samples(g, &in->inputs[k], n);
				in->type->process(in->state, ip, in->outputs, n);
			}
		}
		for (unsigned l = 0; l < lanes; l++) {
			in = &g->instances[awake[l]];
			for (unsigned o = 0; o < in->type->n_outputs &&
			    !in->type->outputs_bounded; o++)
				if (guard_exceeds(in->outputs[o], n, BLOWUP_BITS)) {
					instance_blew_up(g, awake[l], n);
					break;
				}
			if (in->leaving != 0 && !in->heard)
				in->heard = (uint8_t)leaving_heard(in, n);
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
 * do not count: they read the previous chunk.  Ghosts count: their source
 * must run first. */
static void
stages_compute(const struct graph *g, const struct patch *p, const int *order,
    unsigned n_order, const int *rank, unsigned *stage)
{
	for (unsigned i = 0; i < n_order; i++) {
		int m = order[i];
		unsigned st = 0;
		/* the patch's connections, then the ghosts fading out */
		for (unsigned c = 0; c < p->n_connections + g->n_ghosts; c++) {
			const struct patch_connection *k = c < p->n_connections ?
			    &p->connections[c] : &g->ghosts[c - p->n_connections];
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
 * each faded by its `ramp` (NULL: none), charged to `module`; returns its
 * task index. */
static unsigned
sum_task_add(struct graph *g, const float *const *src, const int *ramp,
    unsigned count, float *out, int module, unsigned n_inst)
{
	struct graph_sum *s = &g->sums[g->n_sums];
	s->src = src;
	s->ramp = ramp;
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
			const int *ramp = level == 1 && in->ramped ?
			    &g->source_ramp[in->first + lo] : NULL;
			unsigned t = sum_task_add(g, src + lo, ramp, hi - lo, out,
			    module, n_inst);
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
		unsigned t = sum_task_add(g, in->partial, NULL, in->n_partial,
		    in->sum, module, n_inst);
		for (unsigned j = 0; j < in->n_partial; j++)
			edge_add(edges, in->partial_task + j, t);
	} else {
		unsigned t = sum_task_add(g, &g->sources[in->first],
		    in->ramped ? &g->source_ramp[in->first] : NULL, in->count,
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
 * Voices per voice task: the path's vector width (dsp/lanes.h), so that a
 * task's lane kernels fill their registers, but never so many that a stage
 * has fewer voice tasks than the machine has CPUs (64 voices on 16 CPUs:
 * groups of 4, whatever the path).  The grouping never changes a sample:
 * a lane kernel writes what process writes.
 */
static unsigned
lane_group_for(unsigned poly, enum lanes_path path)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned group = (unsigned)path;
	if (cpus > 1 && poly / (unsigned)cpus < group)
		group = poly / (unsigned)cpus;
	return group < 1 ? 1 : group;
}

/*
 * Group instances into tasks and build the pool's plan: per stage, one
 * task per group of voices (lane_group_for) holding their modules of the
 * stage, each module's instances side by side, then per
 * global module the partial sums of its inputs with more than SUM_GROUP
 * sources and one task for the module; after the last stage the sums of
 * the engine outputs; last the background tasks.
 */

static void
tasks_build(struct graph *g, const struct patch *p, const int *order,
    unsigned n_order, const int *rank)
{
	unsigned stage[PATCH_MAX_MODULES], n_stages = 0;
	stages_compute(g, p, order, n_order, rank, stage);
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
		for (unsigned v = 0; v < g->poly; v += g->lane_group) {
			unsigned start = n_inst;
			unsigned lanes = g->poly - v < g->lane_group ?
			    g->poly - v : g->lane_group;
			for (unsigned i = 0; i < n_order; i++) {
				int m = order[i];
				if (stage[m] != st || p->modules[m].scope != SCOPE_VOICE)
					continue;
				for (unsigned l = 0; l < lanes; l++) {
					unsigned idx = g->module_first[m] + v + l;
					task_of[idx] = g->n_tasks;
					g->task_inst[n_inst++] = idx;
				}
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
			for (unsigned s = 0; s < gi->n_ghost; s++) {
				int src = g->ghost_inst[gi->ghost_first + s];
				if (src >= 0)
					edge_add(&edges, task_of[src], task_of[i]);
			}
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
	if (guard_limit_bits(GRAPH_SOUNDING_PEAK) != SOUNDING_BITS)
		fatal("SOUNDING_BITS is not the bits of GRAPH_SOUNDING_PEAK");
	struct graph *g = xcalloc(1, sizeof *g);
	g->rate = rate;
	g->tempo = tempo_default(rate);
	g->n_inputs = p->n_inputs;
	g->n_outputs = p->n_outputs;
	g->n_modules = p->n_modules;
	g->poly = p->poly;
	g->lane_path = lanes_path();
	g->lane_group = lane_group_for(p->poly, g->lane_path);
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
			in->prev = prev;
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
	g->n_maps = p->n_maps;
	g->maps = graph_alloc(g, (p->n_maps + 1) * sizeof *g->maps);
	g->map_last = graph_alloc(g, (p->n_maps + 1) * sizeof *g->map_last);
	memcpy(g->maps, p->maps, p->n_maps * sizeof *g->maps);
	for (unsigned i = 0; i < p->n_maps; i++)
		g->map_last[i] = NAN;

	/* wiring, with the fades of the edit from `old` */
	ramps_setup(g, p, old, rank);
	g->cap_sources = count_sources(p, p->connections, p->n_connections);
	g->sources = graph_alloc(g, (g->cap_sources + 1) * sizeof(float *));
	g->source_inst = graph_alloc(g, (g->cap_sources + 1) * sizeof(int));
	g->source_ramp = graph_alloc(g, (g->cap_sources + 1) * sizeof(int));
	g->cap_ghost_src = count_sources(p, g->ghosts, g->n_ghosts);
	g->ghost_src = graph_alloc(g, (g->cap_ghost_src + 1) * sizeof(float *));
	g->ghost_inst = graph_alloc(g, (g->cap_ghost_src + 1) * sizeof(int));
	g->ghost_ramp = graph_alloc(g, (g->cap_ghost_src + 1) * sizeof(int));
	for (unsigned i = 0; i < g->n_instances; i++) {
		struct graph_instance *in = &g->instances[i];
		for (unsigned k = 0; k < in->type->n_inputs; k++) {
			struct graph_input *gi = &in->inputs[k];
			gather(g, p, rank, in->module, (int)k, in->voice, gi);
			gi->idle = input_idle(g, gi, &in->type->inputs[k]);
		}
	}
	g->engine_out = graph_alloc(g, (g->n_outputs + 1) * sizeof *g->engine_out);
	g->engine_out_ptr = graph_alloc(g, (g->n_outputs + 1) * sizeof(float *));
	for (unsigned c = 0; c < g->n_outputs; c++)
		gather(g, p, rank, PATCH_IO_OUT, (int)c, 0, &g->engine_out[c]);

	tasks_build(g, p, order, n_order, rank);

	/* the loop edges' last chunks, taken over at the swap */
	for (int pass = 0; pass < 2; pass++) {
		g->n_fb_carry = 0;
		for (unsigned i = 0; i < g->n_instances; i++) {
			struct graph_instance *in = &g->instances[i];
			for (unsigned o = 0; in->prev != NULL && o < in->type->n_outputs; o++) {
				if (in->feedback[o] == NULL || in->prev->feedback[o] == NULL)
					continue;
				if (pass == 1)
					g->fb_carry[g->n_fb_carry] = (struct loop_copy){
					    in->feedback[o], in->prev->feedback[o] };
				g->n_fb_carry++;
			}
		}
		if (pass == 0)
			g->fb_carry = graph_alloc(g, (g->n_fb_carry + 1) *
			    sizeof *g->fb_carry);
	}

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
	/* what leaves a voice: voice module outputs read by a global module
	 * or an engine output (graph_voices_sounding) */
	g->voice_heard = graph_alloc(g, p->poly + 1);
	for (unsigned m = 0; m < p->n_modules; m++)
		if (p->modules[m].scope == SCOPE_VOICE &&
		    g->module_types[m]->event != NULL && !g->mono)
			g->voices_may_sleep = 1;
	g->voice_asleep = graph_alloc(g, p->poly + 1);
	g->voice_quiet = graph_alloc(g, (p->poly + 1) * sizeof *g->voice_quiet);
	g->sleep_after = (uint32_t)(SLEEP_SECONDS * rate);
	for (unsigned c = 0; c < p->n_connections; c++) {
		const struct patch_connection *k = &p->connections[c];
		if (k->from.module < 0 || k->from.port < 0 ||
		    k->from.port >= MODULE_MAX_PORTS ||
		    p->modules[k->from.module].scope != SCOPE_VOICE ||
		    (k->to.module >= 0 &&
		    p->modules[k->to.module].scope == SCOPE_VOICE))
			continue;
		for (unsigned v = 0; v < g->module_count[k->from.module]; v++)
			instance_of(g, k->from.module, v)->leaving |=
			    1u << k->from.port;
	}
	g->leaving_inst = graph_alloc(g, (g->n_instances + 1) * sizeof(unsigned));
	for (unsigned i = 0; i < g->n_instances; i++)
		if (g->instances[i].leaving != 0)
			g->leaving_inst[g->n_leaving++] = i;
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

/*
 * What a module reads on input `gi` unconnected, when an edit connects it
 * from nothing or disconnects it wholly (every source fades): the value
 * its port states ("unconnected = 1" for a vca's cv), or 0.  The fade then
 * runs between that value and the signal, not from silence.
 */
static float
input_idle(const struct graph *g, const struct graph_input *gi,
    const struct port_desc *port)
{
	const char *said = port->help != NULL ? strstr(port->help, "unconnected = ") : NULL;
	if (said == NULL || (gi->count == 0 && gi->n_ghost == 0))
		return 0.0f;
	for (unsigned s = 0; s < gi->count; s++)
		if (g->source_ramp[gi->first + s] < 0)
			return 0.0f;      /* a source stays: never unconnected */
	return strtof(said + strlen("unconnected = "), NULL);
}

/* Whether a fade of input `in` runs this chunk. */
static int
input_fading(const struct graph *g, const struct graph_input *in)
{
	for (unsigned s = 0; s < in->n_ghost; s++)
		if (ramp_running(g, g->ghost_ramp[in->ghost_first + s]))
			return 1;
	for (unsigned s = 0; in->ramped && s < in->count; s++) {
		int r = g->source_ramp[in->first + s];
		if (r >= 0 && ramp_running(g, r))
			return 1;
	}
	return 0;
}

/* Input `in` while a fade runs: its sources (faded in the sums), then its
 * ghosts fading out, then, for an input connected from nothing or
 * disconnected wholly, its unconnected value where no fade has reached
 * full gain (sum->idle * (1 - the highest gain)). */
static const float *
input_fade(struct graph *g, const struct graph_input *in, unsigned n)
{
	float *out = in->sum;
	if (in->count == 0)
		memset(out, 0, n * sizeof(float));
	else if (in->partial != NULL && !in->by_task)
		sum_into(out, in->partial, in->n_partial, n);
	else if (!in->by_task)
		sum_ramped(g, out, &g->sources[in->first],
		    &g->source_ramp[in->first], in->count, n);
	for (unsigned s = 0; s < in->n_ghost; s++) {
		int r = g->ghost_ramp[in->ghost_first + s];
		const float *x = g->ghost_src[in->ghost_first + s];
		if (ramp_running(g, r))
			for (unsigned i = 0; i < n; i++)
				out[i] += x[i] * ramp_gain(g, r, i);
	}
	if (in->idle == 0.0f)
		return out;
	for (unsigned i = 0; i < n; i++) {
		float top = 0.0f;
		for (unsigned s = 0; s < in->count; s++) {
			float gain = ramp_gain(g, g->source_ramp[in->first + s], i);
			top = gain > top ? gain : top;
		}
		for (unsigned s = 0; s < in->n_ghost; s++) {
			float gain = ramp_gain(g, g->ghost_ramp[in->ghost_first + s], i);
			top = gain > top ? gain : top;
		}
		out[i] += in->idle * (1.0f - top);
	}
	return out;
}

/* The samples an input reads this chunk: NULL when unconnected, the one
 * source as it is, the sum of several in their fixed order, or of the top
 * partial sums of its tree in theirs; for an engine output with several
 * sources, what its sum task left.  While an edit's fade runs on it, the
 * faded sum (input_fade). */
static const float *
input_samples(struct graph *g, const struct graph_input *in, unsigned n)
{
	if ((in->ramped || in->n_ghost > 0) && input_fading(g, in))
		return input_fade(g, in, n);
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
	/* a sleeping voice wakes for its events (voices_sleep): a note, or
	 * for one block at least, a bend or mod wheel every voice takes */
	if (voice >= 0 && (unsigned)voice < g->poly) {
		g->voice_asleep[voice] = 0;
		if (ev->kind == NOTE_EVENT_ON || ev->kind == NOTE_EVENT_STEAL)
			g->voice_quiet[voice] = 0;
	} else if (voice < 0) {
		memset(g->voice_asleep, 0, g->poly);
	}
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

/* Start `note`: a voice from the allocator, or voice 0 in mono; returns
 * the voice. */
static int
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
		return 0;
	}
	int stolen = 0;
	int v = voices_note_on(g->voices, ev->note, ev->velocity, &stolen);
	struct note_event out = *ev;
	if (stolen)
		out.kind = NOTE_EVENT_STEAL;
	deliver(g, v, &out);
	return v;
}

/* The voice that holds `note` now, or -1. */
static int
voice_of_note(const struct graph *g, unsigned note)
{
	if (g->mono)
		return g->route.n_held > 0 &&
		    g->route.held[g->route.n_held - 1] == note ? 0 : -1;
	for (unsigned v = 0; v < g->voices->n; v++)
		if (g->voices->voice[v].state == VOICE_HELD &&
		    g->voices->voice[v].note == note)
			return (int)v;
	return -1;
}

/* Set the parameters that controller mappings tie to event e, now (the
 * chunk starts at its frame): the whole module for controllers, only
 * `voice`'s instance for velocity and polyphonic aftertouch. */
static void
apply_maps(struct graph *g, const struct graph_event *e, int voice)
{
	if (e->kind == NOTE_EVENT_CC)
		midimap_cc14_update(&g->cc14, e->channel, e->note, e->velocity);
	for (unsigned i = 0; i < g->n_maps; i++) {
		const struct patch_map *m = &g->maps[i];
		float pos;
		if (m->module < 0 || (unsigned)m->module >= g->n_modules ||
		    !midimap_position(m, e->kind, e->channel, e->note, e->velocity,
		    e->amount, &g->cc14, &pos))
			continue;
		const struct module_type *t = g->module_types[m->module];
		if (m->param >= t->n_params)
			continue;
		float v = param_clamp(&t->params[m->param], midimap_value(m, pos));
		if (m->source == MAP_VELOCITY || m->source == MAP_POLY_PRESSURE) {
			if (voice < 0)
				continue;
			unsigned k = g->module_scope[m->module] == SCOPE_VOICE ?
			    (unsigned)voice : 0;
			if (k < g->module_count[m->module])
				t->set_param(g->instances[g->module_first[m->module] +
				    k].state, m->param, v);
			continue;
		}
		graph_set_param(g, m->module, m->param, v);
		g->map_last[i] = v;
	}
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
			.channel = e->channel,
			.amount = e->amount,
		};
		switch (e->kind) {
		case NOTE_EVENT_ON:
			apply_maps(g, e, note_start(g, &ev));
			break;
		case NOTE_EVENT_CC:
		case NOTE_EVENT_PRESSURE:
			apply_maps(g, e, -1);
			break;
		case NOTE_EVENT_POLY_PRESSURE:
			apply_maps(g, e, voice_of_note(g, e->note));
			break;
		case NOTE_EVENT_BEND:
			deliver(g, -1, &ev);
			apply_maps(g, e, -1);
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

/* Whether an event of this kind may move a mapped parameter. */
static int
may_move_map(unsigned kind)
{
	return kind == NOTE_EVENT_CC || kind == NOTE_EVENT_BEND ||
	    kind == NOTE_EVENT_PRESSURE || kind == NOTE_EVENT_POLY_PRESSURE ||
	    kind == NOTE_EVENT_ON;
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

/* Tell every instance that follows tempo where the music stands at the
 * coming chunk, `done` frames into the block. */
static void
tempo_deliver(struct graph *g, unsigned done)
{
	struct dsp_tempo t = g->tempo;

	t.position += t.per_frame * (double)done;
	for (unsigned m = 0; m < g->n_modules; m++) {
		const struct module_type *type = g->module_types[m];
		if (type->tempo == NULL)
			continue;
		struct graph_instance *first = &g->instances[g->module_first[m]];
		for (unsigned v = 0; v < g->module_count[m]; v++)
			type->tempo(first[v].state, &t);
	}
}

void
graph_set_tempo(struct graph *g, const struct dsp_tempo *t)
{
	g->tempo = *t;
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

/* The probed output of this chunk, summed over the module's voices in
 * voice order, into dst. */
static void
probe_chunk(const struct graph *g, float *dst, unsigned n)
{
	unsigned first = g->module_first[g->probe_module];
	unsigned count = g->module_count[g->probe_module];
	memcpy(dst, g->instances[first].outputs[g->probe_port], n * sizeof(float));
	for (unsigned v = 1; v < count; v++) {
		const float *src = g->instances[first + v].outputs[g->probe_port];
		for (unsigned i = 0; i < n; i++)
			dst[i] += src[i];
	}
}

int
graph_find_output(const struct graph *g, const char *module, const char *port,
    unsigned *port_index)
{
	for (unsigned m = 0; m < g->n_modules; m++) {
		if (strcmp(g->module_names[m], module) != 0)
			continue;
		const struct module_type *t = g->module_types[m];
		for (unsigned o = 0; o < t->n_outputs; o++)
			if (strcmp(t->outputs[o].name, port) == 0) {
				*port_index = o;
				return (int)m;
			}
		return -1;
	}
	return -1;
}

void
graph_set_probe(struct graph *g, int module, unsigned port, float *dst)
{
	if (module < 0 || (unsigned)module >= g->n_modules || dst == NULL ||
	    g->module_count[module] == 0 ||
	    port >= g->module_types[module]->n_outputs) {
		g->probe_dst = NULL;
		g->probe_module = -1;
		return;
	}
	g->probe_module = module;
	g->probe_port = port;
	g->probe_dst = dst;
}

/* After a block: the voices whose leaving outputs peaked above
 * GRAPH_SOUNDING_PEAK in it, into g->voices_sounding; the marks start again
 * from none.  O(leaving instances + poly), no allocation. */
static void
count_sounding(struct graph *g, unsigned frames)
{
	unsigned count = 0;
	for (unsigned i = 0; i < g->n_leaving; i++) {
		struct graph_instance *gi = &g->instances[g->leaving_inst[i]];
		if (gi->heard && gi->voice < g->poly)
			g->voice_heard[gi->voice] = 1;
		gi->heard = 0;
	}
	for (unsigned v = 0; v < g->poly; v++) {
		count += g->voice_heard[v];
		if (g->voice_heard[v])
			g->voice_quiet[v] = 0;
		else if (g->voice_quiet[v] < UINT32_MAX - frames)
			g->voice_quiet[v] += frames;
		g->voice_heard[v] = 0;
	}
	g->voices_sounding = count;
}

/* A voice's instances' outputs to silence, for the voice's first block
 * asleep: what reads them (a global module, an engine output, a loop
 * edge) hears exactly 0 from then on. */
static void
voice_silence(struct graph *g, unsigned v)
{
	for (unsigned m = 0; m < g->n_modules; m++) {
		if (g->module_scope[m] != SCOPE_VOICE || v >= g->module_count[m])
			continue;
		struct graph_instance *in = &g->instances[g->module_first[m] + v];
		for (unsigned o = 0; o < in->type->n_outputs; o++)
			memset(in->outputs[o], 0, GRAPH_CHUNK * sizeof(float));
	}
}

/*
 * After a block: which voices sleep through the next.  In a patch whose
 * voices play notes (a voice module takes note events: midi), a voice
 * sleeps when its key is up (never pressed, or released with the sustain
 * pedal up) and nothing left it above GRAPH_SOUNDING_PEAK (-100 dBFS) for
 * SLEEP_SECONDS: its release has ended.  Its instances then do not run
 * (a group of sleeping voices costs nothing), its outputs read 0, and the
 * allocator counts it idle, so the next note takes the lowest-numbered
 * sleeping voice and sounding voices stay packed in few groups; no
 * sounding voice moves.  Any event for it wakes it: a note for good, a
 * bend or mod wheel (to every voice) for the block it comes in, so the
 * voice keeps its controllers for its next note.  The voices of a patch
 * without a note input (a drone), and a mono patch's, never sleep.
 * Whether a voice sleeps depends only on the audio and the notes, so the
 * output stays bit-identical for any thread count.
 */
static void
voices_sleep(struct graph *g)
{
	if (!g->voices_may_sleep)
		return;
	for (unsigned v = 0; v < g->poly; v++) {
		int sleep = g->voices->voice[v].state != VOICE_HELD &&
		    g->voice_quiet[v] >= g->sleep_after;
		if (sleep && !g->voice_asleep[v]) {
			voice_silence(g, v);
			voices_silent(g->voices, (int)v);
		}
		g->voice_asleep[v] = (unsigned char)sleep;
	}
}

unsigned
graph_voices_asleep(const struct graph *g)
{
	unsigned n = 0;
	for (unsigned v = 0; v < g->poly; v++)
		n += g->voice_asleep[v];
	return n;
}

unsigned
graph_voices_sounding(const struct graph *g)
{
	return g->voices_sounding;
}

void
graph_process(struct graph *g, const float *const *in, float *const *out,
    unsigned frames)
{
	unsigned next_event = 0, splits = 0;

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
		if (g->n_maps > 0 && splits < GRAPH_MAX_MAP_SPLITS) {
			/* a mapped controller acts at its event's frame: the
			 * chunk ends before the next event after its start that
			 * may move one (a flood beyond GRAPH_MAX_MAP_SPLITS in a
			 * block acts at chunk starts: the cost stays bounded) */
			for (unsigned k = next_event; k < g->n_events; k++)
				if (g->events[k].frame > done && g->events[k].frame <
				    done + n && may_move_map(g->events[k].kind)) {
					n = g->events[k].frame - done;
					splits++;
					break;
				}
		}
		for (unsigned c = 0; c < g->n_inputs; c++) {
			if (in != NULL && in[c] != NULL)
				memcpy(g->engine_in[c], in[c] + done, n * sizeof(float));
			else
				memset(g->engine_in[c], 0, n * sizeof(float));
		}
		route_events(g, done, n, &next_event);
		tempo_deliver(g, done);
		g->chunk_pos = atomic_load_explicit(&g->frames_run, memory_order_relaxed);
		run_chunk(g, n);
		if (g->probe_dst != NULL)
			probe_chunk(g, g->probe_dst + done, n);
		float from = g->route.gain, to = g->route.muted ? 0.0f : 1.0f;
		for (unsigned c = 0; c < g->n_outputs; c++)
			output_chunk(g, out[c] + done,
			    input_samples(g, &g->engine_out[c], n), n, from, to);
		g->route.gain = to;
		atomic_store_explicit(&g->frames_run, g->chunk_pos + n,
		    memory_order_relaxed);
		done += n;
	}
	count_sounding(g, frames);
	voices_sleep(g);
	g->n_events = 0;
	/* on at the same tempo, unless graph_set_tempo says otherwise */
	g->tempo.position += g->tempo.per_frame * (double)frames;
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
		.velocity = ev->velocity, .channel = ev->channel, .amount = ev->amount,
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
	g->module_params[module][param] = value;	/* a value set now is not one a controller gave (apply_maps notes
	 * its own after this) */
	for (unsigned i = 0; i < g->n_maps; i++)
		if (g->maps[i].module == module && g->maps[i].param == param)
			g->map_last[i] = NAN;
}

/* Where a fade of g for connection `key` starts, in frames done, from
 * what the graph `old` that ran until now plays of that connection: fully
 * (a fade in is over; a ghost starts), fading in or out at some gain (the
 * fade goes on from that very gain: the curve is symmetric), or not at all
 * (a fade in starts; a ghost is over). */
static uint64_t
ramp_base(const struct graph *g, const struct graph *old,
    const struct graph_ramp *rp)
{
	uint64_t len = g->ramp_len;
	if (old == NULL)
		return len;
	int r = ramp_index(old, rp->key);
	if (r >= 0) {
		uint64_t pos = atomic_load_explicit(&old->frames_run,
		    memory_order_relaxed) + old->ramps[r].base;
		if (pos > len)
			pos = len;
		return old->ramps[r].fade_in == rp->fade_in ? pos : len - pos;
	}
	int sounding = key_index(old->conn_key, old->n_conns, rp->key) >= 0;
	return sounding == rp->fade_in ? len : 0;
}

void
graph_continue(struct graph *g, const struct graph *old)
{
	for (unsigned r = 0; r < g->n_ramps; r++)
		g->ramps[r].base = ramp_base(g, old, &g->ramps[r]);
	if (old == NULL)
		return;
	if (old == g->compiled_from)
		for (unsigned k = 0; k < g->n_fb_carry; k++)
			memcpy(g->fb_carry[k].to, g->fb_carry[k].from,
			    GRAPH_CHUNK * sizeof(float));
	if (old->poly == g->poly) {
		*g->voices = *old->voices;
	} else {
		/* the voices both have go on as they were; new ones are idle */
		unsigned both = old->voices->n < g->voices->n ? old->voices->n :
		    g->voices->n;
		g->voices->clock = old->voices->clock;
		memcpy(g->voices->voice, old->voices->voice,
		    both * sizeof g->voices->voice[0]);
	}
	if (old->mono == g->mono)
		g->route = old->route;
	/* sleeping voices sleep on (their outputs in this graph start at 0),
	 * unless this patch's voices never sleep: then none may stay asleep */
	unsigned both = old->poly < g->poly ? old->poly : g->poly;
	if (g->voices_may_sleep)
		memcpy(g->voice_asleep, old->voice_asleep, both);
	memcpy(g->voice_quiet, old->voice_quiet, both * sizeof *g->voice_quiet);
	g->cc14 = old->cc14;
	/* a mapped parameter keeps the value its controller gave it last,
	 * whatever the (possibly older) patch this graph was built from says */
	for (unsigned i = 0; i < g->n_maps; i++) {
		const struct patch_map *m = &g->maps[i];
		for (unsigned j = 0; j < old->n_maps; j++) {
			const struct patch_map *o = &old->maps[j];
			if (isnan(old->map_last[j]) || o->source != m->source ||
			    o->number != m->number || o->channel != m->channel ||
			    o->param != m->param || o->module < 0 ||
			    (unsigned)o->module >= old->n_modules ||
			    strcmp(old->module_names[o->module],
			    g->module_names[m->module]) != 0)
				continue;
			g->map_last[i] = old->map_last[j];
			g->module_params[m->module][m->param] = old->map_last[j];
			g->params_pending = 1;
		}
	}
}


int
graph_fades_over(const struct graph *g)
{
	return atomic_load_explicit(&g->frames_run, memory_order_relaxed) >=
	    g->ramp_len;
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

unsigned
graph_lane_group(const struct graph *g)
{
	return g->lane_group;
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
