/*
 * src/child.c — the DSP side of the engine.  The control thread reads patch
 * commands from the control ring, applies them to its own copy of the patch,
 * compiles graphs off the real-time path and publishes them by an atomic
 * pointer swap; it frees a graph once the engine has moved past it.  The
 * engine thread waits for a cycle request, takes the newest graph at the
 * block boundary, runs it on the thread pool and publishes the result.
 * A structural edit (modules, connections, voices) switches at the block
 * boundary with no fade of the whole output: the new graph carries on the
 * state of every instance both graphs have and fades in or out only the
 * connections the edit touched (src/graph.c).  One block in every few is
 * profiled into the region's per-module cost rows.
 *
 * The engine thread and the pool's workers never allocate, lock, print or
 * block, except the futex sleep while there is no work.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "child.h"
#include "dsp_util.h"
#include "futex.h"
#include "graph.h"
#include "guard.h"
#include "log.h"
#include "midimap.h"
#include "patch.h"
#include "pool.h"
#include "rtcheck.h"
#include "shm.h"

_Static_assert(REGION_MAX_MODULES == PATCH_MAX_MODULES,
    "a cost row holds every patch module");

/* Bounded spin before the engine sleeps on the request word, ns. */
#define ENGINE_SPIN_NS 50000
/* The control thread's idle tick (heartbeat while nothing happens), ns. */
#define CONTROL_TICK_NS 20000000
/* Graphs published but not yet freed, at most. */
#define MAX_RETIRED 32
/* One block in this many is profiled for the per-module cost. */
#define PROFILE_EVERY 4
/* Hot workers (auto): the DSP threads are awake when a cycle comes once
 * their time in tasks reaches HOT_ON_LOAD of the interval between
 * requests, and go back to plain sleeping below HOT_OFF_LOAD.  Woken by
 * futex only when a cycle has come, workers start tens to hundreds of
 * microseconds late (bench/parallel_bench --paced shows it); at a low load
 * the engine thread does their work itself in time, at a high one it
 * cannot. */
#define HOT_ON_LOAD 0.25
#define HOT_OFF_LOAD 0.15
/* Hot, every DSP thread sleeps through most of the gap between cycles (so
 * that other threads get the CPUs, and real-time throttling never sees a
 * CPU busy all the time), wakes by itself HOT_LEAD_NS before the next
 * request is due (a quarter of the interval at most), and spins up to
 * HOT_SPIN_LEADS times that for it. */
#define HOT_LEAD_NS 250000ull
#define HOT_SPIN_LEADS 3
/* JACK transport's tempo is taken within these bounds, BPM; outside them
 * (or not finite) the patch's tempo rules. */
#define TRANSPORT_MIN_BPM 1.0
#define TRANSPORT_MAX_BPM 2000.0


/* What a control message changed in the patch. */
enum {
	CHANGED_TEXT = 1,          /* a text parameter (a file): new graph */
	CHANGED_STRUCTURE = 2,     /* modules, connections, voices: new graph,
				      the touched connections faded */
	CHANGED_MAPS = 4           /* controller mappings: a new graph holds
				      them, nothing faded */
};

/* A parameter change for the engine: cheap, no recompile. */
struct param_change {
	uint32_t gen;           /* graph generation whose indices it uses */
	int32_t module;
	uint32_t param;
	float value;
};

/* A probe request for the engine (control -> engine ring): the signal to
 * copy into the region's probe ring, by name, found again in each graph
 * the engine takes. */
struct probe_request {
	uint32_t id;                    /* the parent's number for it */
	char module[PATCH_NAME_MAX];    /* "" : probe off */
	char port[32];
};
#define PROBE_REQUESTS 8

/* A graph as published, read by the engine as one unit. */
struct published {
	struct graph *g;
	uint32_t gen;           /* 1, 2, ... per publish */
};

/* 1 in a forked DSP child (child_main), 0 when the DSP runs inside the
 * parent (--no-fork), where it must never end the process. */
static int dsp_is_child;

struct dsp {
	struct region *r;
	float rate;
	/* control thread */
	struct patch *patch;
	struct published *newest;          /* last published graph */
	struct published *retired[MAX_RETIRED];
	unsigned n_retired;
	struct ring params_tx;             /* control -> engine, producer handle */
	/* shared between the two threads */
	_Atomic(struct published *) next;  /* newest graph, for the engine */
	_Atomic uint32_t engine_gen;       /* generation the engine runs */
	_Atomic int stop;
	void *params_mem;
	void *probe_mem;
	struct ring probe_tx;              /* control -> engine: probe requests */
	/* engine thread */
	struct ring params_rx;             /* consumer handle */
	struct ring probe_rx;
	struct probe_request probe;        /* the request in effect */
	uint32_t probe_gen;                /* the graph it was found in, 0: none */
	int probe_on;                      /* that graph writes probe_buf */
	int probe_module;                  /* what it probes there: module, */
	unsigned probe_port;               /* and output port */
	float *probe_buf;                  /* max_block frames */
	struct published *taken;           /* graph running, NULL before the first */
	struct pool *pool;
	unsigned long blocks;              /* cycles run, for profiling */
	uint64_t last_request_ns;          /* when the last request was seen */
	uint64_t interval_ns;              /* between requests, smoothed */
	uint64_t busy_before;              /* the threads' busy_ns, summed */
	int hot;                           /* threads awake when cycles come */
	uint64_t wake_at_ns;               /* hot: wake up then for the next */
	uint64_t spin_ns;                  /* the engine's spin before sleeping */
	pthread_t control_thread, engine_thread;
	int control_started, engine_started;
	struct reset_log resets;           /* control thread: modules reset */
	_Atomic float patch_tempo;         /* control -> engine: the patch's BPM */
	double song_position;              /* engine: whole notes at the next
					      cycle's first frame */
	int song_rolled;                   /* engine: transport rolled last cycle */
	uint64_t song_frame;               /* engine: the transport frame that
					      continues the last cycle */
	/* control thread: a `remove` whose module's connections are fading
	 * out; it is done once they are silent, or before the next message */
	char pending_remove[PATCH_NAME_MAX];
	uint32_t pending_gen;              /* the graph that fades them */
};

/* Set only in fault-injection builds (dsp/fault.c): called on each cycle's
 * finished output block, to make it carry what a broken child would. */
void (*child_output_hook)(float *const *out, unsigned n_out, unsigned frames);
/* Also only there: called on the probe's block before it is written
 * (written 0) and after (1), to make the probe lie as a broken child's
 * would. */
void (*child_probe_hook)(struct region *r, float *buf, unsigned frames,
    int written);

/* Post a text event to the parent (drops it when the ring is full). */
static void
post_event(struct dsp *d, const char *text)
{
	ring_msg_push(&d->r->events, text, (uint32_t)strlen(text) + 1);
}

/* Apply queued parameter changes meant for the graph now running; keep the
 * ones for a newer graph until the engine takes it. */
static void
drain_params(struct dsp *d)
{
	const struct param_change *pc;
	uint32_t n;
	while ((pc = ring_elem_peek(&d->params_rx, &n)) != NULL && n > 0) {
		if (pc->gen > d->taken->gen)
			return;
		if (pc->gen == d->taken->gen)
			graph_set_param(d->taken->g, pc->module, pc->param, pc->value);
		ring_elem_release(&d->params_rx, 1);
	}
}

/* Start running the published graph `p` (at a block or span boundary). */
static void
take_graph(struct dsp *d, struct published *p)
{
	graph_continue(p->g, d->taken != NULL ? d->taken->g : NULL);
	graph_set_pool(p->g, d->pool);
	graph_set_blame(p->g, d->r->task_module, REGION_MAX_TASKS);
	d->taken = p;
	atomic_store_explicit(&d->engine_gen, p->gen, memory_order_release);
}

/* At the start of a cycle: take the newest published graph.  It carries
 * the running graph's state on, and fades only what the edit touched. */
static void
switch_graph(struct dsp *d)
{
	struct published *next = atomic_load_explicit(&d->next, memory_order_acquire);
	if (next != NULL && next != d->taken)
		take_graph(d, next);
}

/* At the start of a cycle, after the graph switch: take the newest probe
 * request, and find its signal in the running graph when either is new.
 * The request's number goes to the parent only now, before any sample of
 * it is written (see struct region_probe). */
static void
probe_update(struct dsp *d)
{
	const struct probe_request *req;
	uint32_t n;
	int fresh = 0;
	while ((req = ring_elem_peek(&d->probe_rx, &n)) != NULL && n > 0) {
		d->probe = *req;
		ring_elem_release(&d->probe_rx, 1);
		fresh = 1;
	}
	if (d->taken != NULL && (fresh || d->probe_gen != d->taken->gen)) {
		unsigned port = 0;
		int m = d->probe.module[0] == '\0' ? -1 :
		    graph_find_output(d->taken->g, d->probe.module, d->probe.port, &port);
		graph_set_probe(d->taken->g, m, port, d->probe_buf);
		d->probe_on = m >= 0;
		d->probe_module = m;
		d->probe_port = port;
		d->probe_gen = d->taken->gen;
	}
	if (fresh)
		atomic_store_explicit(&d->r->probe->id.v, d->probe.id,
		    memory_order_release);
}

/* After a cycle of `frames` frames: the probed signal into the region's
 * ring, the whole block or (no room: the parent is not reading) none. */
static void
probe_write(struct dsp *d, unsigned frames)
{
	struct region *r = d->r;
	if (!d->probe_on || d->taken == NULL || d->probe_gen != d->taken->gen)
		return;
	if (ring_elem_space(&r->probe_ring) < frames) {
		atomic_fetch_add_explicit(&r->probe->dropped.v, 1, memory_order_relaxed);
		return;
	}
	if (child_probe_hook != NULL)
		child_probe_hook(r, d->probe_buf, frames, 0);
	ring_elem_push(&r->probe_ring, d->probe_buf, frames);
	if (child_probe_hook != NULL)
		child_probe_hook(r, d->probe_buf, frames, 1);
}

/* Run frames [from, from + n) of the cycle on the running graph: the note
 * events that fall there, then the graph. */
static void
run_span(struct dsp *d, const float *const *in, float *const *out,
    unsigned from, unsigned n, const struct region_midi *ev, unsigned n_midi,
    unsigned frames, uint32_t prev, int profile)
{
	const struct region *r = d->r;
	const float *span_in[64];
	float *span_out[64];

	for (unsigned c = 0; c < r->dims.n_inputs; c++)
		span_in[c] = in[c] + from;
	for (unsigned c = 0; c < r->dims.n_outputs; c++)
		span_out[c] = out[c] + from;
	for (unsigned i = 0; i < n_midi; i++) {
		unsigned frame = ev[i].frame < frames ? ev[i].frame : frames - 1;
		if (frame < from || frame >= from + n)
			continue;
		if ((int32_t)(ev[i].origin - prev) <= 0)
			continue;       /* had with cycle `prev` or before */
		struct note_event ne = {
			.frame = frame - from,
			.kind = ev[i].kind, .note = ev[i].note,
			.velocity = ev[i].velocity, .channel = ev[i].channel,
			.amount = ev[i].amount,
		};
		graph_event(d->taken->g, &ne);
	}
	if (d->probe_on && d->probe_gen == d->taken->gen)
		graph_set_probe(d->taken->g, d->probe_module, d->probe_port,
		    d->probe_buf + from);
	graph_set_cost(d->taken->g, profile ? r->cost->ns : NULL);
	graph_process(d->taken->g, span_in, span_out, n);
}

/*
 * The song position and tempo of a cycle of `frames` frames, from JACK
 * transport as the parent saw it (`t`, not trusted: every field checked).
 * The tempo is the transport's when its BBT part is valid (a timebase
 * master runs), else the patch's.  The position, in whole notes:
 *   rolling     the transport frame at that tempo where the transport
 *               starts or jumps; from there on it runs sample-accurately
 *               at the tempo (so a tempo change bends it, never jumps it);
 *   standing    it runs on from where it was at that tempo (the patch's
 *               own clock; from 0 in an offline render).
 * BBT ticks are not used for the position: they are whole numbers, and
 * common masters (jack_transport) advance them by truncated steps, which
 * would make a tempo-synced cycle jitter and drift.
 */
static struct dsp_tempo
song_tempo(struct dsp *d, const struct region_transport *t, unsigned frames)
{
	struct dsp_tempo tempo;
	double bpm = atomic_load_explicit(&d->patch_tempo, memory_order_relaxed);
	double per_beat = 0.25;          /* whole notes per beat */
	int bbt = (t->flags & REGION_TRANSPORT_BBT) && isfinite(t->bpm) &&
	    t->bpm >= TRANSPORT_MIN_BPM && t->bpm <= TRANSPORT_MAX_BPM &&
	    isfinite(t->beat_type) && t->beat_type >= 1.0f &&
	    t->beat_type <= 128.0f;

	if (!(bpm >= PATCH_TEMPO_MIN && bpm <= PATCH_TEMPO_MAX))
		bpm = PATCH_TEMPO_DEFAULT;
	if (bbt) {
		bpm = t->bpm;
		per_beat = 1.0 / t->beat_type;
	}
	tempo.bpm = bpm;
	tempo.per_frame = bpm / 60.0 * per_beat / (double)d->rate;
	tempo.rolling = (t->flags & REGION_TRANSPORT_ROLLING) != 0;
	if (tempo.rolling && (!d->song_rolled || t->frame != d->song_frame))
		d->song_position = (double)t->frame * tempo.per_frame;
	d->song_rolled = tempo.rolling;
	d->song_frame = t->frame + frames;
	tempo.position = d->song_position;
	d->song_position += tempo.per_frame * (double)frames;
	return tempo;
}

/* Run cycle `seq`, the first since cycle `prev`: events, graph, outputs;
 * then publish done_seq. */
static void
run_cycle(struct dsp *d, uint32_t seq, uint32_t prev)
{
	struct region *r = d->r;
	struct region_sync *s = r->sync;
	unsigned parity = seq & 1;
	unsigned frames = s->frames[parity];
	unsigned n_midi = s->n_midi[parity];
	const struct region_midi *ev = r->midi + (size_t)parity * REGION_MAX_EVENTS;
	int profile = d->blocks++ % PROFILE_EVERY == 0;
	const float *in[64];
	float *out[64];

	if (frames > r->dims.max_block)
		frames = r->dims.max_block;
	if (n_midi > REGION_MAX_EVENTS)
		n_midi = REGION_MAX_EVENTS;
	for (unsigned c = 0; c < r->dims.n_inputs; c++)
		in[c] = region_audio(r, 0, parity, c);
	for (unsigned c = 0; c < r->dims.n_outputs; c++)
		out[c] = region_audio(r, 1, parity, c);
	switch_graph(d);
	probe_update(d);
	if (d->taken == NULL) {
		for (unsigned c = 0; c < r->dims.n_outputs; c++)
			memset(out[c], 0, frames * sizeof(float));
	} else {
		/* the cycle as consecutive graph blocks of `block` frames
		 * (an offline render hands over several at once), each what
		 * a cycle of its own would have been: its events, its tempo,
		 * its voices put to sleep after it */
		unsigned block = s->graph_block[parity];
		if (block == 0 || block > frames)
			block = frames;
		drain_params(d);
		for (unsigned from = 0; from < frames; from += block) {
			unsigned n = frames - from < block ? frames - from : block;
			struct region_transport transport = s->transport[parity];
			transport.frame += from;
			struct dsp_tempo tempo = song_tempo(d, &transport, n);
			graph_set_tempo(d->taken->g, &tempo);
			run_span(d, in, out, from, n, ev, n_midi, frames, prev,
			    profile);
		}
		probe_write(d, frames);
	}
	atomic_store_explicit(&s->voices_sounding.v, d->taken == NULL ? 0 :
	    graph_voices_sounding(d->taken->g), memory_order_relaxed);
	if (child_output_hook != NULL)
		child_output_hook(out, r->dims.n_outputs, frames);
	if (profile && d->taken != NULL) {
		struct region_cost *cost = r->cost;
		atomic_store_explicit(&cost->graph_gen, d->taken->gen,
		    memory_order_relaxed);
		atomic_store_explicit(&cost->frames, atomic_load_explicit(
		    &cost->frames, memory_order_relaxed) + frames,
		    memory_order_release);
	}
	atomic_store_explicit(&s->done_seq.v, seq, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&s->parent_waiting.v, memory_order_relaxed))
		futex_wake(&s->done_seq.v, FUTEX_WAKE_ALL);
	atomic_fetch_add_explicit(&s->heartbeat.v, 1, memory_order_relaxed);
}

/* As a cycle starts at `start_ns`: smooth the interval between requests,
 * measure the DSP load (the threads' time in tasks since the last start
 * over that interval), decide whether the threads are hot, and if so when
 * they wake up ahead of the next request and how long they spin. */
static void
hot_update(struct dsp *d, uint64_t start_ns)
{
	const struct region *r = d->r;
	uint32_t flags = r->dims.flags;
	uint64_t busy = 0, interval, lead;
	double load;

	for (unsigned t = 0; t < r->dims.n_threads; t++)
		busy += atomic_load_explicit(&r->stats[t].busy_ns,
		    memory_order_relaxed);
	if (d->last_request_ns != 0 && start_ns > d->last_request_ns) {
		interval = start_ns - d->last_request_ns;
		/* a pause (JACK stopped, a render waiting for the disk) is not
		 * a period: one sample moves the average by 1/8 of at most
		 * twice itself, so a real change of period still gets through
		 * in a few dozen cycles */
		if (d->interval_ns != 0 && interval > 2 * d->interval_ns)
			interval = 2 * d->interval_ns;
		d->interval_ns = d->interval_ns == 0 ? interval :
		    d->interval_ns - d->interval_ns / 8 + interval / 8;
	}
	d->last_request_ns = start_ns;
	load = d->interval_ns ? (double)(busy - d->busy_before) /
	    (double)d->interval_ns : 0;
	d->busy_before = busy;
	if (flags & REGION_HOT_ON)
		d->hot = 1;
	else if (flags & REGION_HOT_OFF)
		d->hot = 0;
	else if (load >= HOT_ON_LOAD)
		d->hot = 1;
	else if (load < HOT_OFF_LOAD)
		d->hot = 0;
	if (!d->hot || d->interval_ns == 0) {
		d->wake_at_ns = 0;
		d->spin_ns = ENGINE_SPIN_NS;
		pool_set_wake_at(d->pool, 0, 0);
		return;
	}
	lead = HOT_LEAD_NS < d->interval_ns / 4 ? HOT_LEAD_NS : d->interval_ns / 4;
	d->wake_at_ns = start_ns + d->interval_ns - lead;
	d->spin_ns = HOT_SPIN_LEADS * lead;
	if (d->spin_ns < ENGINE_SPIN_NS)
		d->spin_ns = ENGINE_SPIN_NS;
	pool_set_wake_at(d->pool, d->wake_at_ns, d->spin_ns);
}

/* The engine thread: wait for a request (spin, then sleep; hot, wake up
 * ahead of it), run the newest one, repeat until stopped. */
static void *
engine_main(void *arg)
{
	struct dsp *d = arg;
	struct region_sync *s = d->r->sync;
	uint32_t last = atomic_load(&s->req_seq.v);
	int ahead = 0;          /* woke up by itself ahead of a request */
	int ran = 0;            /* the last turn ran a cycle */

	/* thread 0 of the pool: its scheduling was fixed at its creation */
	pthread_setname_np(pthread_self(), "fs-dsp1");
	pool_thread_stats_sched(&d->r->stats[0]);
	dsp_flush_denormals();
	atomic_store(&s->ready.v, 1);
	futex_wake(&s->ready.v, FUTEX_WAKE_ALL);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		uint32_t seq = atomic_load_explicit(&s->req_seq.v, memory_order_acquire);
		if (seq == last && (ran || ahead)) {
			/* briefly after a cycle; hot and up ahead of the next
			 * request, until it comes (within a few leads); not
			 * after an idle tick (a standby's, or between takes):
			 * at rest the thread costs nothing */
			uint64_t until = futex_now_ns() + (ahead && d->spin_ns ?
			    d->spin_ns : ENGINE_SPIN_NS);
			while (seq == last && futex_now_ns() < until) {
#if defined(__x86_64__) || defined(__i386__)
				__builtin_ia32_pause();
#endif
				seq = atomic_load_explicit(&s->req_seq.v, memory_order_acquire);
			}
		}
		if (seq == last) {
			struct timespec ts;
			atomic_store(&s->child_sleeping.v, 1);
			atomic_thread_fence(memory_order_seq_cst);
			if (atomic_load(&s->req_seq.v) == last) {
				/* hot: up again shortly before the next request is
				 * due, else at the control tick (heartbeat) */
				uint64_t now = futex_now_ns();
				ahead = d->wake_at_ns > now &&
				    d->wake_at_ns < now + CONTROL_TICK_NS;
				if (ahead) {
					ts.tv_sec = (time_t)(d->wake_at_ns / 1000000000u);
					ts.tv_nsec = (long)(d->wake_at_ns % 1000000000u);
				} else {
					futex_deadline_after(&ts, CONTROL_TICK_NS);
				}
				futex_wait(&s->req_seq.v, last, &ts);
			} else {
				ahead = 0;
			}
			atomic_store(&s->child_sleeping.v, 0);
			atomic_fetch_add_explicit(&s->heartbeat.v, 1, memory_order_relaxed);
			ran = 0;
			continue;
		}
		/* behind? only the newest request counts; the notes of those
		 * passed over come with it (see submit in engine.c) */
		uint32_t prev = last;
		last = seq;
		atomic_store(&s->taken_seq.v, seq);
		/* decided before the cycle, so that the workers that go to
		 * sleep at its end already know when to wake up */
		ahead = 0;
		hot_update(d, futex_now_ns());
		run_cycle(d, seq, prev);
		ran = 1;
	}
	return NULL;
}

/* The generation of the newest published graph (0 before the first). */
static uint32_t
newest_gen(const struct dsp *d)
{
	return d->newest != NULL ? d->newest->gen : 0;
}

/* Queue one parameter change for the engine, waiting while the queue is
 * full (control thread only). */
static void
send_param(struct dsp *d, int module, unsigned param, float value)
{
	struct param_change pc = { newest_gen(d), module, param, value };
	while (ring_elem_push(&d->params_tx, &pc, 1) == 0 &&
	    !atomic_load(&d->stop))
		usleep(1000);
}

/* Free a published graph and its record. */
static void
published_free(struct published *p)
{
	if (p == NULL)
		return;
	graph_free(p->g);
	free(p);
}

/* Gather the modules `g` has reset since the last look (control thread). */
static void
note_resets(struct dsp *d, struct graph *g)
{
	struct graph_reset r[16];
	unsigned n;
	while ((n = graph_take_resets(g, r, 16)) > 0)
		for (unsigned i = 0; i < n; i++)
			reset_log_add(&d->resets, r[i].name, r[i].type, r[i].count,
			    r[i].peak, r[i].nonfinite);
}

/* Tell the parent of modules that blew up and were reset: each at once
 * the first time, then at most every few seconds (src/guard.h). */
static void
report_resets(struct dsp *d)
{
	char msg[400];
	if (d->newest != NULL)
		note_resets(d, d->newest->g);
	for (unsigned i = 0; i < d->n_retired; i++)
		note_resets(d, d->retired[i]->g);
	while (reset_log_next(&d->resets, futex_now_ns(), msg, sizeof msg))
		post_event(d, msg);
}

/* Free the graphs the engine can no longer be running. */
static void
collect_retired(struct dsp *d)
{
	uint32_t running = atomic_load_explicit(&d->engine_gen, memory_order_acquire);
	unsigned kept = 0;
	for (unsigned i = 0; i < d->n_retired; i++) {
		if (d->retired[i]->gen < running) {
			note_resets(d, d->retired[i]->g);
			published_free(d->retired[i]);
		}
		else
			d->retired[kept++] = d->retired[i];
	}
	d->n_retired = kept;
}

/* Compile the patch into a new graph adopting the newest one's state (and
 * fading the connections that changed since), and publish it for the
 * engine. */
static void
publish_graph(struct dsp *d)
{
	while (d->n_retired == MAX_RETIRED && !atomic_load(&d->stop)) {
		collect_retired(d);
		usleep(1000);
	}
	struct published *p = xmalloc(sizeof *p);
	p->g = graph_compile(d->patch, d->rate, d->newest != NULL ? d->newest->g : NULL);
	if (graph_load_error(p->g) != NULL) {
		char msg[480];
		snprintf(msg, sizeof msg, "error %s", graph_load_error(p->g));
		post_event(d, msg);
	}
	if (graph_task_count(p->g) > REGION_MAX_TASKS) {
		/* pool_run refuses the plan: say so rather than run on one thread
		 * unnoticed */
		char msg[200];
		snprintf(msg, sizeof msg, "warn the patch makes %u tasks, more than "
		    "the DSP pool's %u: it runs on one thread", graph_task_count(p->g),
		    REGION_MAX_TASKS);
		post_event(d, msg);
	}
	p->gen = newest_gen(d) + 1;
	if (d->newest != NULL)
		d->retired[d->n_retired++] = d->newest;
	d->newest = p;
	atomic_store_explicit(&d->next, p, memory_order_release);
	atomic_store(&d->r->sync->graph_gen.v, p->gen);
}

/* What differs between two patches: 0 when only numeric parameters do (no
 * graph need be built), else CHANGED_STRUCTURE (modules, their names,
 * types or scopes, connections, voices) or CHANGED_TEXT (text parameters
 * only). */
static int
patch_change(const struct patch *a, const struct patch *b)
{
	if (a->n_modules != b->n_modules || a->n_connections != b->n_connections ||
	    a->poly != b->poly || a->mono != b->mono)
		return CHANGED_STRUCTURE;
	for (unsigned m = 0; m < a->n_modules; m++)
		if (a->modules[m].type != b->modules[m].type ||
		    a->modules[m].scope != b->modules[m].scope ||
		    strcmp(a->modules[m].name, b->modules[m].name) != 0)
			return CHANGED_STRUCTURE;
	if (memcmp(a->connections, b->connections,
	    a->n_connections * sizeof a->connections[0]) != 0)
		return CHANGED_STRUCTURE;
	if (!midimap_equal(a, b))
		return CHANGED_MAPS;
	for (unsigned m = 0; m < a->n_modules; m++)
		if (strcmp(a->modules[m].text, b->modules[m].text) != 0)
			return CHANGED_TEXT;
	return 0;
}

/* Finish a pending `remove` (its connections have faded, or the next
 * message must see the patch as the parent does); returns CHANGED_STRUCTURE
 * when a module went, else 0. */
static int
remove_pending(struct dsp *d)
{
	struct patch_error err;
	char line[PATCH_NAME_MAX + 8];
	if (d->pending_remove[0] == '\0')
		return 0;
	snprintf(line, sizeof line, "remove %s", d->pending_remove);
	d->pending_remove[0] = '\0';
	return patch_exec_line(d->patch, line, 0, &err) == 0 ? CHANGED_STRUCTURE : 0;
}

/* A `remove` just applied to d->patch (`before` holds the patch before
 * it): when the module had connections, take it back and cut only its
 * connections, so that they fade out like any disconnect; the module
 * itself goes once they are silent (remove_pending). */
static void
remove_softly(struct dsp *d, const struct patch *before)
{
	if (before->n_modules != d->patch->n_modules + 1)
		return;
	unsigned m = 0;
	while (m < d->patch->n_modules && strcmp(before->modules[m].name,
	    d->patch->modules[m].name) == 0)
		m++;
	unsigned kept = 0;
	*d->patch = *before;
	for (unsigned c = 0; c < d->patch->n_connections; c++) {
		const struct patch_connection *k = &d->patch->connections[c];
		if (k->from.module != (int)m && k->to.module != (int)m)
			d->patch->connections[kept++] = *k;
	}
	if (kept == d->patch->n_connections) {
		/* nothing to fade: remove it at once */
		*d->patch = *before;
		snprintf(d->pending_remove, sizeof d->pending_remove, "%s",
		    before->modules[m].name);
		remove_pending(d);
		return;
	}
	d->patch->n_connections = kept;
	snprintf(d->pending_remove, sizeof d->pending_remove, "%s",
	    before->modules[m].name);
	d->pending_gen = newest_gen(d) + 1;     /* the graph published next */
}

/* The module and parameter a `set NAME.PARAM VALUE` line names, into *m
 * and *k (left alone for any other line).  A `set` always reaches the
 * engine, even when this copy of the patch holds that value already: a
 * mapped controller may have moved the parameter since (src/midimap.h). */
static void
set_target(const struct patch *p, const char *word, int *m, int *k)
{
	char name[PATCH_NAME_MAX];
	if (strncmp(word, "set", 3) != 0 || (word[3] != ' ' && word[3] != '\t'))
		return;
	const char *s = word + 3 + strspn(word + 3, " \t");
	size_t n = strcspn(s, ".");
	if (s[n] != '.' || n >= sizeof name)
		return;
	memcpy(name, s, n);
	name[n] = '\0';
	int mod = patch_find_module(p, name);
	if (mod < 0)
		return;
	char pname[64];
	size_t pn = strcspn(s + n + 1, " \t");
	if (pn >= sizeof pname)
		return;
	memcpy(pname, s + n + 1, pn);
	pname[pn] = '\0';
	*k = module_param_index(p->modules[mod].type, pname);
	*m = mod;
}

/* "!probe ID NAME.OUTPUT" or "!probe ID off": hand the request to the
 * engine thread (control thread only; waits while its queue is full). */
static void
probe_request(struct dsp *d, const char *args)
{
	struct probe_request req = { 0 };
	char target[PATCH_NAME_MAX + 40] = "";
	unsigned id;
	if (sscanf(args, "%u %71s", &id, target) != 2) {
		post_event(d, "error the probe request is malformed");
		return;
	}
	req.id = id;
	char *dot = strchr(target, '.');
	if (strcmp(target, "off") != 0 && dot != NULL) {
		*dot = '\0';
		snprintf(req.module, sizeof req.module, "%s", target);
		snprintf(req.port, sizeof req.port, "%s", dot + 1);
	}
	while (ring_elem_push(&d->probe_tx, &req, 1) == 0 && !atomic_load(&d->stop))
		usleep(1000);
}

/* Apply one control message: a patch command, or "!load\n" followed by a
 * whole patch that replaces the patch in one piece.  Numeric parameter
 * changes are queued for the engine; returns what else changed (CHANGED_*
 * bits, 0 for nothing). */
static int
apply_message(struct dsp *d, const char *text, struct patch *before)
{
	struct patch_error err;
	char msg[600];
	int rc, removed = remove_pending(d);
	const char *word = text + strspn(text, " \t");

	if (strncmp(text, "!probe ", 7) == 0) {
		probe_request(d, text + 7);
		return 0;
	}
	*before = *d->patch;
	if (strncmp(text, "!load\n", 6) == 0)
		rc = patch_load_text(d->patch, text + 6, "patch", &err);
	else
		rc = patch_exec_line(d->patch, text, 0, &err);
	if (rc != 0) {
		patch_error_format(&err, msg + 6, sizeof msg - 6);
		memcpy(msg, "error ", 6);
		post_event(d, msg);
		return 0;
	}
	if (strncmp(word, "remove", 6) == 0 && (word[6] == ' ' || word[6] == '\t'))
		remove_softly(d, before);
	int changed = patch_change(before, d->patch) | removed;
	if (changed)
		return changed;
	int set_m = -1, set_k = -1;
	set_target(d->patch, word, &set_m, &set_k);
	for (unsigned m = 0; m < d->patch->n_modules; m++)
		for (unsigned k = 0; k < d->patch->modules[m].type->n_params; k++)
			if (before->modules[m].params[k] != d->patch->modules[m].params[k] ||
			    ((int)m == set_m && (int)k == set_k))
				send_param(d, (int)m, k, d->patch->modules[m].params[k]);
	return 0;
}

/* The control thread: drain the control ring, recompile when the structure
 * or a file changed, free retired graphs, beat the heart. */
static void *
control_main(void *arg)
{
	struct dsp *d = arg;
	struct region_sync *s = d->r->sync;
	struct patch *before = xmalloc(sizeof *before);
	char *buf = xmalloc(REGION_CONTROL_BYTES);

	pthread_setname_np(pthread_self(), "fs-dsp-control");

	while (!atomic_load(&d->stop)) {
		uint32_t seen = atomic_load(&s->control_seq.v);
		int changed = 0, any = 0, len;
		while ((len = ring_msg_pop(&d->r->control, buf, REGION_CONTROL_BYTES)) > 0) {
			buf[len - 1] = '\0';
			changed |= apply_message(d, buf, before);
			any++;
		}
		atomic_store_explicit(&d->patch_tempo, d->patch->tempo,
		    memory_order_relaxed);
		/* a removed module whose connections have faded out goes */
		if (d->pending_remove[0] != '\0' && d->newest != NULL &&
		    atomic_load(&d->engine_gen) >= d->pending_gen &&
		    d->newest->gen >= d->pending_gen && graph_fades_over(d->newest->g))
			changed |= remove_pending(d);
		if (len == RING_CORRUPT) {
			post_event(d, "error the control ring is corrupt");
			if (dsp_is_child)
				_exit(CHILD_EXIT_CORRUPT_RING);
			break;
		}
		/* a whole batch makes one graph */
		if (changed || (d->newest == NULL && any))
			publish_graph(d);
		/* before `applied` moves: a command is also a way to wait until
		 * the blocks run before it have been reported on */
		report_resets(d);
		/* counted once in effect: graph published, parameters queued */
		if (any) {
			atomic_fetch_add(&s->applied.v, (uint32_t)any);
			futex_wake(&s->applied.v, FUTEX_WAKE_ALL);
		}
		collect_retired(d);
		if (!any) {
			struct timespec ts;
			futex_deadline_after(&ts, CONTROL_TICK_NS);
			futex_wait(&s->control_seq.v, seen, &ts);
		}
	}
	free(before);
	free(buf);
	return NULL;
}

/* Start the engine thread, created at SCHED_FIFO `prio` when prio > 0
 * (as the pool's workers are: never a moment at normal priority), else
 * or when refused at normal scheduling; *rt_error is 0, or the errno that
 * refused SCHED_FIFO.  Returns pthread_create's error. */
static int
engine_thread_start(struct dsp *d, int prio, int *rt_error)
{
	struct sched_param sp = { .sched_priority = prio };
	pthread_attr_t attr;
	int err;

	*rt_error = 0;
	pthread_attr_init(&attr);
	if (prio > 0) {
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		*rt_error = pthread_attr_setschedparam(&attr, &sp);
		err = *rt_error != 0 ? *rt_error :
		    pthread_create(&d->engine_thread, &attr, engine_main, d);
		if (err == 0) {
			pthread_attr_destroy(&attr);
			return 0;
		}
		*rt_error = err;
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
	}
	err = pthread_create(&d->engine_thread, &attr, engine_main, d);
	pthread_attr_destroy(&attr);
	return err;
}

/* One warning event when SCHED_FIFO was asked for and refused, to the
 * engine thread (`engine_error`) or the workers (`pool_error`): which
 * threads, and why (rtcheck). */
static void
warn_rt_refused(struct dsp *d, int prio, int engine_error, int pool_error)
{
	char why[400], msg[480];
	int error = engine_error != 0 ? engine_error : pool_error;

	if (error == 0)
		return;
	rtcheck_diagnose(error, prio, why, sizeof why);
	snprintf(msg, sizeof msg, "warn %s; %s", why,
	    engine_error == 0 ? "the DSP workers run with normal priority" :
	    pool_error == 0 && d->r->dims.n_threads > 1 ?
	    "the DSP engine thread runs with normal priority" :
	    "DSP threads run with normal priority");
	post_event(d, msg);
}

struct dsp *
dsp_start(struct region *r, char *err, size_t err_size)
{
	struct dsp *d = xcalloc(1, sizeof *d);
	d->r = r;
	d->rate = (float)r->dims.rate;
	d->patch = xmalloc(sizeof *d->patch);
	patch_init(d->patch, r->dims.n_inputs, r->dims.n_outputs);
	atomic_store(&d->patch_tempo, d->patch->tempo);
	size_t bytes = ring_elem_bytes(sizeof(struct param_change), 4096);
	d->params_mem = xaligned(bytes);
	ring_elem_init(&d->params_tx, d->params_mem, sizeof(struct param_change), 4096);
	ring_attach(&d->params_rx, d->params_mem, bytes, RING_MAGIC_ELEM);
	bytes = ring_elem_bytes(sizeof(struct probe_request), PROBE_REQUESTS);
	d->probe_mem = xaligned(bytes);
	ring_elem_init(&d->probe_tx, d->probe_mem, sizeof(struct probe_request),
	    PROBE_REQUESTS);
	ring_attach(&d->probe_rx, d->probe_mem, bytes, RING_MAGIC_ELEM);
	d->probe_buf = xcalloc(r->dims.max_block, sizeof(float));

	int prio = (int)r->dims.rt_priority;
	if (prio > sched_get_priority_max(SCHED_FIFO))
		prio = sched_get_priority_max(SCHED_FIFO);
	d->pool = pool_create(r->dims.n_threads, REGION_MAX_TASKS, prio, r->stats);
	if (pthread_create(&d->control_thread, NULL, control_main, d) != 0) {
		snprintf(err, err_size, "cannot start the DSP control thread");
		dsp_stop(d);
		return NULL;
	}
	d->control_started = 1;
	int engine_rt_error;
	if (engine_thread_start(d, prio, &engine_rt_error) != 0) {
		snprintf(err, err_size, "cannot start the DSP engine thread");
		dsp_stop(d);
		return NULL;
	}
	d->engine_started = 1;
	warn_rt_refused(d, prio, engine_rt_error, pool_rt_error(d->pool));
	return d;
}

void
dsp_stop(struct dsp *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->stop, 1);
	futex_wake(&d->r->sync->req_seq.v, FUTEX_WAKE_ALL);
	futex_wake(&d->r->sync->control_seq.v, FUTEX_WAKE_ALL);
	if (d->engine_started)
		pthread_join(d->engine_thread, NULL);
	if (d->control_started)
		pthread_join(d->control_thread, NULL);
	if (d->pool != NULL)
		pool_destroy(d->pool);
	for (unsigned i = 0; i < d->n_retired; i++)
		published_free(d->retired[i]);
	published_free(d->newest);
	free(d->params_mem);
	free(d->probe_mem);
	free(d->probe_buf);
	free(d->patch);
	free(d);
}

/* ------------------------------------------------------------ the child */

static struct region child_region;

/* Fatal signal in the child: say which module was running and which
 * signal, wake the parent, then die of the signal.  Async-signal-safe. */
static void
on_fatal_signal(int sig)
{
	struct region_sync *s = child_region.sync;
	if (s != NULL) {
		atomic_store(&s->blame_module, graph_running_module);
		atomic_store(&s->blame_signal, sig);
		atomic_store(&s->dead.v, (uint32_t)sig);
		futex_wake(&s->done_seq.v, FUTEX_WAKE_ALL);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int
child_main(int argc, char **argv)
{
	struct shm shm = { 0 };
	char err[256];

	if (argc < 5)
		fatal("--dsp-child is internal: it takes FD SIZE PARENT_PID");
	int fd = atoi(argv[2]);
	size_t size = (size_t)strtoull(argv[3], NULL, 10);
	pid_t parent = (pid_t)atoi(argv[4]);

	dsp_is_child = 1;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return 1;       /* the parent died before we could watch it */
	if (shm_map_fd(&shm, fd, size, 0) != 0)
		fatal("DSP child: %s", shm.error);
	if (region_attach(&child_region, shm.base, shm.size, err, sizeof err) != 0)
		fatal("DSP child: %s", err);

	/* C-z at the terminal is for the front end, never for the DSP */
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_fatal_signal };
	sigemptyset(&sa.sa_mask);
	int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP };
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	signal(SIGINT, SIG_IGN);       /* the parent decides when we stop */
	signal(SIGPIPE, SIG_IGN);

	struct dsp *d = dsp_start(&child_region, err, sizeof err);
	if (d == NULL)
		fatal("DSP child: %s", err);
	/* live until the parent goes away (PR_SET_PDEATHSIG) or says quit */
	for (;;) {
		pause();
	}
	return 0;
}
