/*
 * tests/graph_test.c — the graph executor: sums and broadcasts across
 * scopes, the one-chunk delay that closes a loop, notes routed to voices at
 * their frames, state carried over a recompile, determinism, the
 * reduction tree that sums many voices, the largest polyphony, and the
 * count of voices sounding.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "graph.h"
#include "pool.h"
#include "region.h"
#include "util.h"

#define RATE 48000.0f

/* Load patch text or fail the test. */
static void
load(struct patch *p, const char *text)
{
	struct patch_error err;
	patch_init(p, 2, 2);
	if (patch_load_text(p, text, "test", &err) != 0) {
		char msg[512];
		patch_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "patch: %s\n", msg);
		exit(99);
	}
}

/* Voice outputs into a global input sum over voices; a global signal fed
 * into a voice module reaches every voice. */
static void
test_scopes(void)
{
	static struct patch p;
	load(&p, "poly 3\nvoice vca amp gain=1\nglobal vca g gain=2\n"
	    "connect in.1 amp.in\nconnect amp.out out.1\n"
	    "connect amp.out g.in\nconnect g.out out.2\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	float in1[600], l[600], r[600];
	for (int i = 0; i < 600; i++)
		in1[i] = 0.25f;
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	graph_process(g, in, out, 600);
	int bad = 0;
	for (int i = 0; i < 600; i++)
		bad += l[i] != 0.75f || r[i] != 1.5f;
	if (bad)
		fail("scopes: 3 voices of 0.25 should sum to 0.75 (and x2 = 1.5): "
		    "got %g and %g", l[0], r[0]);
	else
		printf("ok: voice->global sums 3 voices; global->voice broadcasts\n");
	if (graph_instance_count(g) != 4)
		fail("instances: %u, want 4", graph_instance_count(g));
	graph_free(g);
}

/* A loop a -> b -> a: a reads b one chunk late, so the first chunk has no
 * feedback and the next ones do, exactly. */
static void
test_loop(void)
{
	static struct patch p;
	load(&p, "poly 1\nglobal vca a gain=0.5\nglobal vca b gain=0.5\n"
	    "connect in.1 a.in\nconnect a.out b.in\nconnect b.out a.in\n"
	    "connect a.out out.1\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	enum { N = 3 * GRAPH_CHUNK };
	static float in1[N], l[N], r[N];
	for (int i = 0; i < N; i++)
		in1[i] = 1.0f;
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	graph_process(g, in, out, N);
	/* a_k = 0.5 (1 + b_{k-1}), b_k = 0.5 a_k */
	float a = 0, b = 0;
	int bad = 0;
	for (int k = 0; k < 3; k++) {
		a = 0.5f * (1.0f + b);
		for (int i = 0; i < GRAPH_CHUNK; i++)
			bad += l[k * GRAPH_CHUNK + i] != a;
		b = 0.5f * a;
	}
	if (bad)
		fail("loop: chunk values %g %g %g, want 0.5 0.625 0.65625",
		    l[0], l[GRAPH_CHUNK], l[2 * GRAPH_CHUNK]);
	else
		printf("ok: a loop reads its source one chunk (%d frames) late\n",
		    GRAPH_CHUNK);
	graph_free(g);
}

/* Notes go to voices at their exact frames; a third note on two voices
 * steals the oldest, whose gate drops for one sample. */
static void
test_notes(void)
{
	static struct patch p;
	load(&p, "poly 2\nvoice midi note\nconnect note.gate out.1\n"
	    "connect note.velocity out.2\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	static float l[1000], r[1000];
	float *out[2] = { l, r };
	graph_note_on(g, 10, 60, 127);
	graph_note_on(g, 300, 64, 127);     /* crosses a chunk boundary */
	graph_note_on(g, 700, 67, 127);     /* steals the note at 10 */
	graph_note_off(g, 900, 64);
	graph_process(g, NULL, out, 1000);
	struct { int frame; float want; } checks[] = {
		{ 9, 0 }, { 10, 1 }, { 299, 1 }, { 300, 2 }, { 699, 2 },
		{ 700, 1 }, { 701, 2 }, { 899, 2 }, { 900, 1 }, { 999, 1 },
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		if (l[checks[i].frame] != checks[i].want) {
			fail("notes: gate sum at frame %d is %g, want %g",
			    checks[i].frame, l[checks[i].frame], checks[i].want);
			bad++;
		}
	if (!bad)
		printf("ok: notes at frames 10, 300, 700 (steal), off at 900\n");
	graph_free(g);
}

/* A graph recompiled mid-way with an added, unrelated module continues
 * every instance's state: the output equals an uninterrupted run. */
static void
test_carry_over(void)
{
	static struct patch p, q;
	const char *text = "poly 2\nvoice midi note\nvoice vco osc wave=saw\n"
	    "voice adsr env\nvoice vca amp\nglobal delay d time=0.01 feedback=0.5\n"
	    "connect note.pitch osc.pitch\nconnect note.gate env.gate\n"
	    "connect osc.out amp.in\nconnect env.out amp.cv\n"
	    "connect amp.out d.in\nconnect d.out out.1\n";
	load(&p, text);
	q = p;
	struct patch_error err;
	if (patch_exec_line(&q, "global noise extra", 1, &err) != 0)
		exit(99);

	enum { N = 4096, HALF = 2048 };
	static float a1[N], a2[N], b1[N], b2[N];
	float *oa[2] = { a1, a2 }, *ob[2] = { b1, b2 };

	struct graph *ga = graph_compile(&p, RATE, NULL);
	graph_note_on(ga, 5, 57, 100);
	graph_note_on(ga, 9, 61, 100);
	graph_process(ga, NULL, oa, N);

	struct graph *gb = graph_compile(&p, RATE, NULL);
	graph_note_on(gb, 5, 57, 100);
	graph_note_on(gb, 9, 61, 100);
	graph_process(gb, NULL, ob, HALF);
	struct graph *gc = graph_compile(&q, RATE, gb);
	graph_continue(gc, gb);
	graph_free(gb);
	float *ob2[2] = { b1 + HALF, b2 + HALF };
	graph_process(gc, NULL, ob2, N - HALF);

	if (memcmp(a1, b1, sizeof a1) != 0)
		fail("carry-over: output differs after recompiling");
	else if (rms(a1, N) < 0.01)
		fail("carry-over: silent output (rms %g)", rms(a1, N));
	else
		printf("ok: recompiling keeps oscillator, envelope and delay state\n");
	graph_free(ga);
	graph_free(gc);
}

/* Two compiles of one patch with the same events give the same bits. */
static void
test_determinism(void)
{
	static struct patch p;
	load(&p, "poly 4\nvoice midi note\nvoice noise n color=pink\n"
	    "voice vco o\nvoice vca amp\nconnect note.pitch o.pitch\n"
	    "connect n.out amp.in\nconnect o.out amp.in\nconnect note.gate amp.cv\n"
	    "connect amp.out out.1\n");
	static float a[2][3000], b[2][3000];
	float *oa[2] = { a[0], a[1] }, *ob[2] = { b[0], b[1] };
	for (int k = 0; k < 2; k++) {
		struct graph *g = graph_compile(&p, RATE, NULL);
		for (int n = 0; n < 6; n++)
			graph_note_on(g, (unsigned)(n * 300), 48 + 5 * n, 100);
		graph_process(g, NULL, k ? ob : oa, 3000);
		graph_free(g);
	}
	if (memcmp(a, b, sizeof a) != 0)
		fail("determinism: two runs differ");
	else
		printf("ok: two runs are bit-identical\n");
}

/* Queue one event of any kind at `frame`. */
static void
ev(struct graph *g, unsigned frame, int kind, unsigned note, unsigned vel,
    float amount)
{
	struct note_event e = { .frame = frame, .kind = (uint8_t)kind,
	    .note = (uint8_t)note, .velocity = (uint8_t)vel, .amount = amount };
	graph_event(g, &e);
}

/* Mono: last-note priority and legato; the sustain pedal defers note offs;
 * all notes off releases; all sound off also mutes until the next note. */
static void
test_routing(void)
{
	static struct patch p;
	static float pitch[4096], gate[4096];
	float *out[2] = { pitch, gate };

	load(&p, "mono\nvoice midi note\nconnect note.pitch out.1\n"
	    "connect note.gate out.2\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	ev(g, 10, NOTE_EVENT_ON, 60, 100, 0);
	ev(g, 100, NOTE_EVENT_ON, 64, 100, 0);    /* legato to 64 */
	ev(g, 200, NOTE_EVENT_OFF, 64, 0, 0);     /* back to 60, held */
	ev(g, 300, NOTE_EVENT_OFF, 60, 0, 0);     /* all up */
	graph_process(g, NULL, out, 400);
	int ok = gate[50] == 1 && pitch[50] == (60 - 69) / 12.0f &&
	    pitch[150] == (64 - 69) / 12.0f && pitch[250] == (60 - 69) / 12.0f &&
	    gate[299] == 1 && gate[300] == 0;
	for (int i = 10; i < 300; i++)
		ok &= gate[i] == 1.0f;           /* legato: no gate edge */
	if (ok)
		printf("ok: mono plays the last note, legato, back to the held one\n");
	else
		fail("mono: gate %g %g %g, pitch %g %g %g", gate[50], gate[299],
		    gate[300], pitch[50], pitch[150], pitch[250]);
	graph_free(g);

	load(&p, "poly 4\nvoice midi note\nconnect note.gate out.1\n"
	    "connect note.gate out.2\n");
	g = graph_compile(&p, RATE, NULL);
	ev(g, 0, NOTE_EVENT_ON, 60, 100, 0);
	ev(g, 10, NOTE_EVENT_SUSTAIN, 0, 0, 1.0f);
	ev(g, 20, NOTE_EVENT_OFF, 60, 0, 0);      /* held by the pedal */
	ev(g, 30, NOTE_EVENT_ON, 62, 100, 0);
	ev(g, 40, NOTE_EVENT_SUSTAIN, 0, 0, 0.0f);  /* 60 ends here */
	ev(g, 50, NOTE_EVENT_ALL_OFF, 0, 0, 0);   /* 62 ends here */
	graph_process(g, NULL, out, 100);
	if (pitch[25] == 1 && pitch[35] == 2 && pitch[45] == 1 && pitch[55] == 0)
		printf("ok: sustain holds note offs until released; all notes off\n");
	else
		fail("sustain: gates %g %g %g %g, want 1 2 1 0", pitch[25], pitch[35],
		    pitch[45], pitch[55]);
	ev(g, 0, NOTE_EVENT_ON, 64, 100, 0);
	ev(g, 0, NOTE_EVENT_SOUND_OFF, 0, 0, 0);
	graph_process(g, NULL, out, 2 * GRAPH_CHUNK);
	float muted = peak(pitch + GRAPH_CHUNK, GRAPH_CHUNK);
	ev(g, 0, NOTE_EVENT_ON, 65, 100, 0);
	graph_process(g, NULL, out + 0, GRAPH_CHUNK);
	float after = pitch[GRAPH_CHUNK - 1];
	graph_process(g, NULL, out, 2 * GRAPH_CHUNK);
	if (muted == 0.0f && peak(pitch, 2 * GRAPH_CHUNK) == 1.0f && after > 0.99f)
		printf("ok: all sound off mutes until the next note\n");
	else
		fail("sound off: muted peak %g, after the next note %g, later peak %g",
		    muted, after, peak(pitch, 2 * GRAPH_CHUNK));
	graph_free(g);
}

/* The same 32-voice patch, with a global stage after the voices, gives the
 * same bits serially and on pools of 1 to 4 threads. */
static void
test_threads(void)
{
	static struct patch p;
	load(&p, "poly 32\nvoice midi note\nvoice vco o1 wave=saw\nvoice vco o2 wave=pulse\n"
	    "voice adsr env\nvoice ladder f res=0.6\nvoice vca amp\nglobal lfo l rate=3\n"
	    "global delay d time=0.05 feedback=0.6\nglobal svf s\n"
	    "connect note.pitch o1.pitch\nconnect note.pitch o2.pitch\n"
	    "connect l.out f.mod\nconnect o1.out f.in\nconnect o2.out f.in\n"
	    "connect note.gate env.gate\nconnect f.out amp.in\nconnect env.out amp.cv\n"
	    "connect amp.out d.in\nconnect d.out s.in\nconnect s.lp out.1\n"
	    "connect amp.out out.2\nconnect s.bp d.in\n");
	enum { N = 8192 };
	static float ref[2][N], got[2][N];
	for (unsigned threads = 0; threads <= 4; threads++) {
		struct graph *g = graph_compile(&p, RATE, NULL);
		struct pool *pool = threads ? pool_create(threads, 4096, 0, NULL) : NULL;
		graph_set_pool(g, pool);
		float *o[2] = { threads ? got[0] : ref[0], threads ? got[1] : ref[1] };
		for (unsigned b = 0; b < N / 512; b++) {
			for (unsigned k = 0; k < 4; k++)
				graph_note_on(g, 100 * k, 40 + ((b * 4 + k) * 7) % 40, 90);
			float *ob[2] = { o[0] + b * 512, o[1] + b * 512 };
			graph_process(g, NULL, ob, 512);
		}
		graph_free(g);
		if (pool != NULL)
			pool_destroy(pool);
		if (threads == 0) {
			if (rms(ref[0], N) < 1e-3)
				fail("threads: reference render is silent");
			continue;
		}
		if (memcmp(ref, got, sizeof ref) != 0)
			fail("threads: %u-thread output differs from the serial one", threads);
		else
			printf("ok: %u thread(s) bit-identical to serial\n", threads);
	}
}

/* CLOCK_MONOTONIC now, in seconds. */
static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Velocity of voice v's note in the sum tests: 1..127, varied, so that
 * every voice carries a different signal and grouping changes rounding. */
static unsigned
sum_velocity(unsigned v)
{
	return 1 + (v * 37u) % 127u;
}

/* Compile the sum-tree patch for `poly` voices: voice v plays in.1 * 0.7 *
 * velocity; every voice and in.1 go into global g (to out.1), every voice
 * into out.2. */
static struct graph *
sum_patch(unsigned poly)
{
	static struct patch p;
	char text[512];
	snprintf(text, sizeof text, "poly %u\nvoice midi note\n"
	    "voice vca amp gain=0.7\nglobal vca g\n"
	    "connect in.1 amp.in\nconnect note.velocity amp.cv\n"
	    "connect amp.out g.in\nconnect in.1 g.in\n"
	    "connect g.out out.1\nconnect amp.out out.2\n", poly);
	load(&p, text);
	return graph_compile(&p, RATE, NULL);
}

/* Play the sum patch: `poly` notes in blocks of at most 512 events (the
 * queue), then `n` frames of the input `x` into out[0..1]. */
static void
sum_render(struct graph *g, unsigned poly, const float *x, float *const *out,
    unsigned n)
{
	static float warm[2][64];
	float *wo[2] = { warm[0], warm[1] };
	for (unsigned v = 0; v < poly; v += 512) {
		for (unsigned k = v; k < poly && k < v + 512; k++)
			graph_note_on(g, 0, k & 127, sum_velocity(k));
		graph_process(g, NULL, wo, 64);
	}
	const float *in[2] = { x, NULL };
	graph_process(g, in, out, n);
}

/* How far `got` is from the double-precision sum of every voice's
 * in.1 * 0.7 * velocity (plus in.1 itself when `with_input`), relative to
 * the sum of the terms' magnitudes: float rounding gives ~1e-7 a level. */
static double
sum_error(unsigned poly, const float *x, const float *got, unsigned n,
    int with_input)
{
	double worst = 0.0;
	for (unsigned i = 0; i < n; i++) {
		double ref = with_input ? x[i] : 0.0;
		double mag = fabs(ref) + 1e-30;
		for (unsigned v = 0; v < poly; v++) {
			float y = x[i] * 0.7f * ((float)sum_velocity(v) / 127.0f);
			ref += y;
			mag += fabs(y);
		}
		double e = fabs(got[i] - ref) / mag;
		if (e > worst)
			worst = e;
	}
	return worst;
}

/* Voices summed into a global input and into an engine output through the
 * reduction tree (300 voices: 19 partial sums, then 2, then the reader):
 * bit-identical with no pool and on pools of 1, 2, 3 and 8 threads, and
 * equal to a sum in double within float rounding. */
static void
test_sum_tree(void)
{
	enum { POLY = 300, N = 700 };
	static float x[N], ref[2][N], got[2][N];
	for (unsigned i = 0; i < N; i++)
		x[i] = sinf(0.05f * (float)i) * 0.9f + 0.01f * (float)(i % 7);
	static const unsigned threads[] = { 0, 1, 2, 3, 8 };
	/* the scalar path runs voices one by one */
	enum lanes_path was = lanes_path();
	lanes_force(LANES_SCALAR);
	struct graph *one = sum_patch(POLY);
	if (graph_lane_group(one) != 1)
		fail("sum tree: groups of %u voices on the scalar path",
		    graph_lane_group(one));
	graph_free(one);
	lanes_force(was);
	for (unsigned r = 0; r < sizeof threads / sizeof threads[0]; r++) {
		struct graph *g = sum_patch(POLY);
		/* voice tasks (a group of voices each), g, g.in's 19 + 2
		 * partials, out.2's 19 + 2 and its total */
		unsigned group = graph_lane_group(g);
		/* voices are grouped when the path has lanes to fill and the
		 * machine's CPUs leave at least 2 voices each */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		if (r == 0 && lanes_path() != LANES_SCALAR &&
		    POLY / (cpus > 1 ? cpus : 1) >= 2 && group < 2)
			fail("sum tree: %u voices on %ld CPUs in groups of %u, "
			    "on the %s path", POLY, cpus, group,
			    lanes_path_name(lanes_path()));
		unsigned want = (POLY + group - 1) / group + 1 + 21 + 22;
		if (r == 0 && graph_task_count(g) != want)
			fail("sum tree: %u tasks, want %u (groups of %u voices)",
			    graph_task_count(g), want, group);
		struct pool *pool = threads[r] ? pool_create(threads[r], 4096, 0, NULL) : NULL;
		graph_set_pool(g, pool);
		float *o[2] = { r ? got[0] : ref[0], r ? got[1] : ref[1] };
		sum_render(g, POLY, x, o, N);
		graph_free(g);
		if (pool != NULL)
			pool_destroy(pool);
		if (r == 0) {
			double e1 = sum_error(POLY, x, ref[0], N, 1);
			double e2 = sum_error(POLY, x, ref[1], N, 0);
			if (rms(ref[1], N) < 1.0 || e1 > 1e-5 || e2 > 1e-5)
				fail("sum tree: %u voices sum off the double sum by %g "
				    "(global) and %g (out), rms %g", POLY, e1, e2,
				    rms(ref[1], N));
			else
				printf("ok: %u voices summed by the tree within %.1e "
				    "(global) and %.1e (out) of the double sum\n", POLY,
				    e1, e2);
			continue;
		}
		if (memcmp(ref, got, sizeof ref) != 0)
			fail("sum tree: %u-thread output differs from the serial one",
			    threads[r]);
		else
			printf("ok: sum tree on %u thread(s) bit-identical to serial\n",
			    threads[r]);
	}
}

/* The most voices a patch may have: `poly` at PATCH_MAX_POLY parses,
 * compiles into few enough tasks for the DSP child's pool, and plays a
 * block, the same on 3 threads as serially and right by the double sum. */
static void
test_poly_max(void)
{
	enum { N = 256 };
	static float x[N], ref[2][N], got[2][N];
	for (unsigned i = 0; i < N; i++)
		x[i] = cosf(0.03f * (float)i) * 0.5f;
	for (unsigned threads = 0; threads <= 3; threads += 3) {
		double t0 = now_seconds();
		struct graph *g = sum_patch(PATCH_MAX_POLY);
		double t1 = now_seconds();
		if (graph_task_count(g) > REGION_MAX_TASKS)
			fail("poly %u: %u tasks, more than the child's pool takes (%u)",
			    PATCH_MAX_POLY, graph_task_count(g), REGION_MAX_TASKS);
		struct pool *pool = threads ? pool_create(threads, REGION_MAX_TASKS,
		    0, NULL) : NULL;
		graph_set_pool(g, pool);
		float *o[2] = { threads ? got[0] : ref[0], threads ? got[1] : ref[1] };
		sum_render(g, PATCH_MAX_POLY, x, o, N);
		if (threads == 0)
			printf("ok: poly %u compiles in %.0f ms into %u tasks\n",
			    PATCH_MAX_POLY, 1e3 * (t1 - t0), graph_task_count(g));
		graph_free(g);
		if (pool != NULL)
			pool_destroy(pool);
	}
	double e = sum_error(PATCH_MAX_POLY, x, ref[1], N, 0);
	if (e > 1e-5 || rms(ref[1], N) < 1.0)
		fail("poly %u: the sum is off the double sum by %g", PATCH_MAX_POLY, e);
	else if (memcmp(ref, got, sizeof ref) != 0)
		fail("poly %u: 3 threads differ from serial", PATCH_MAX_POLY);
	else
		printf("ok: poly %u plays, 3 threads bit-identical to serial, "
		    "within %.1e of the double sum\n", PATCH_MAX_POLY, e);
}

/* Run `frames` frames of `g` in blocks of 256 into scratch outputs. */
static void
run_frames(struct graph *g, unsigned frames)
{
	static float l[256], r[256];
	float *out[2] = { l, r };
	for (unsigned done = 0; done < frames; done += 256)
		graph_process(g, NULL, out, 256);
}

/* Voices sounding: held notes count, and their release tail after the
 * keys are up; once the release is over none does, though each voice's
 * oscillator runs on into a voice module whose output leaves nothing (what
 * counts is what leaves the voice).  Global modules alone: none. */
static void
test_sounding(void)
{
	static struct patch p;
	load(&p, "poly 4\nvoice midi n\nvoice vco v wave=sine level=0.5\n"
	    "voice adsr env attack=0.001 sustain=1 release=0.1\n"
	    "voice vca a\nvoice vca inside\n"
	    "connect n.pitch v.pitch\nconnect n.gate env.gate\n"
	    "connect v.out a.in\nconnect env.out a.cv\n"
	    "connect a.out out.1\nconnect v.out inside.in\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	run_frames(g, 256);
	unsigned quiet = graph_voices_sounding(g);
	graph_note_on(g, 0, 60, 100);
	graph_note_on(g, 10, 64, 100);
	run_frames(g, 256);
	unsigned held = graph_voices_sounding(g);
	graph_note_off(g, 0, 60);
	graph_note_off(g, 0, 64);
	run_frames(g, 1024);            /* 21 ms into a 100 ms release */
	unsigned tail = graph_voices_sounding(g);
	run_frames(g, 48000);           /* a second: the release is over */
	unsigned after = graph_voices_sounding(g);
	if (quiet != 0 || held != 2 || tail != 2 || after != 0)
		fail("sounding: before notes %u (want 0), 2 held %u (want 2), in "
		    "their release %u (want 2), after it %u (want 0)", quiet, held,
		    tail, after);
	else
		printf("ok: voices sounding: 0, 2 held, 2 in the release, 0 after "
		    "(a voice's inner outputs do not count)\n");
	graph_free(g);

	load(&p, "poly 4\nglobal vco osc level=0.5\nconnect osc.out out.1\n");
	g = graph_compile(&p, RATE, NULL);
	graph_note_on(g, 0, 60, 100);
	run_frames(g, 512);
	if (graph_voices_sounding(g) != 0)
		fail("sounding: global modules only, %u voices", graph_voices_sounding(g));
	else
		printf("ok: global modules only: no voice sounds\n");
	graph_free(g);
}

/* Peak of |x| over the last 256-frame block graph_process wrote to `l`. */
static float
block_peak(struct graph *g)
{
	static float l[256], r[256];
	float *out[2] = { l, r };
	float peak = 0.0f;
	graph_process(g, NULL, out, 256);
	for (unsigned i = 0; i < 256; i++)
		peak = fabsf(l[i]) > peak ? fabsf(l[i]) : peak;
	return peak;
}

/* Render a played phrase (notes, releases, a bend while voices sleep,
 * notes again) on a pool of `threads` (0: none) into out[N]. */
static void
sleep_phrase(const struct patch *p, unsigned threads, float *out, unsigned n)
{
	struct graph *g = graph_compile(p, RATE, NULL);
	struct pool *pool = threads ? pool_create(threads, 4096, 0, NULL) : NULL;
	graph_set_pool(g, pool);
	float scratch[256];
	for (unsigned b = 0; b * 256 < n; b++) {
		if (b == 2 || b == 3)
			graph_note_on(g, 17 * b, 48 + 7 * b, 90);
		if (b == 40)
			graph_note_off(g, 5, 48 + 14);
		if (b == 60) {
			struct note_event bend = { .frame = 100,
			    .kind = NOTE_EVENT_BEND, .amount = 0.5f };
			graph_event(g, &bend);
		}
		if (b == 70)
			graph_note_on(g, 3, 60, 100);
		float *o[2] = { out + b * 256, scratch };
		graph_process(g, NULL, o, 256);
	}
	graph_free(g);
	if (pool != NULL)
		pool_destroy(pool);
}

/* Voices sleep: in a patch that plays notes, a voice whose key is up and
 * that left nothing above -100 dBFS for 0.1 s does not run and reads 0;
 * a note wakes it, the lowest-numbered sleeping voice takes the next note,
 * and a bend given while voices sleep is in the pitch of the next note.  A
 * drone patch's voices never sleep.  Sleeping depends only on the audio:
 * bit-identical with no pool and on 1, 2 and 3 threads. */
static void
test_sleep(void)
{
	static struct patch p;
	load(&p, "poly 8\nvoice midi n bend=2\nvoice vco v wave=sine level=0.5\n"
	    "voice adsr env attack=0.001 sustain=1 release=0.05\n"
	    "voice vca a\n"
	    "connect n.pitch v.pitch\nconnect n.gate env.gate\n"
	    "connect v.out a.in\nconnect env.out a.cv\nconnect a.out out.1\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	block_peak(g);
	unsigned at_start = graph_voices_asleep(g);   /* not quiet long yet */
	for (unsigned b = 0; b < 20; b++)
		block_peak(g);
	unsigned idle = graph_voices_asleep(g);
	graph_note_on(g, 0, 60, 100);
	graph_note_on(g, 10, 64, 100);
	graph_note_on(g, 20, 67, 100);
	float held_peak = 0.0f;
	for (unsigned b = 0; b < 40; b++) {
		float pk = block_peak(g);
		held_peak = pk > held_peak ? pk : held_peak;
	}
	unsigned held = graph_voices_asleep(g);
	graph_note_off(g, 0, 60);
	graph_note_off(g, 0, 64);
	graph_note_off(g, 0, 67);
	for (unsigned b = 0; b < 4; b++)
		block_peak(g);
	unsigned tail = graph_voices_asleep(g);
	for (unsigned b = 0; b < 100; b++)
		block_peak(g);
	unsigned after = graph_voices_asleep(g);
	float silent = block_peak(g);
	if (at_start != 0 || idle != 8 || held != 5 || tail != 5 || after != 8 ||
	    silent != 0.0f || held_peak < 0.4f)
		fail("sleep: asleep at first %u (want 0), untouched 0.1 s on %u "
		    "(want 8), 3 held %u (want 5), in the release %u (want 5), "
		    "after it %u (want 8); peak then %g (want 0), held %g",
		    at_start, idle, held, tail, after, silent, held_peak);
	else
		printf("ok: voices asleep: 0 at first, 8 untouched, 5 with 3 "
		    "held and in their release, 8 after, and they read 0\n");

	/* a bend while every voice sleeps, then a note: a wakes, at the
	 * bent pitch (A4 + 1 semitone: 466.2 Hz, zero crossings counted over
	 * one second), on voice 0 */
	struct note_event bend = { .frame = 0, .kind = NOTE_EVENT_BEND, .amount = 0.5f };
	graph_event(g, &bend);
	block_peak(g);
	unsigned bent = graph_voices_asleep(g);
	int voice = graph_note_on(g, 0, 69, 100);
	enum { SECOND = 48000 };
	static float l[SECOND], r[SECOND];
	float *o[2] = { l, r };
	for (unsigned b = 0; b < 10; b++)
		block_peak(g);               /* the bend's glide settles */
	graph_process(g, NULL, o, SECOND);
	unsigned ups = 0;
	for (unsigned i = 1; i < SECOND; i++)
		ups += l[i - 1] < 0.0f && l[i] >= 0.0f;
	double want = 440.0 * pow(2.0, 1.0 / 12.0);
	if (bent != 8 || fabs(ups - want) > 2.0 || graph_voices_asleep(g) != 7)
		fail("sleep: a bend to sleeping voices: %u asleep after it (want 8), "
		    "then a note at %u Hz (want %.1f), %u asleep (want 7)", bent,
		    ups, want, graph_voices_asleep(g));
	else
		printf("ok: a bend given to sleeping voices is in the next note "
		    "(%u Hz), which wakes one voice\n", ups);
	(void)voice;

	/* an edit to a patch without a note input: no voice stays asleep */
	for (unsigned b = 0; b < 20; b++)
		block_peak(g);               /* voice 0's note is still held */
	static struct patch drone;
	load(&drone, "poly 8\nvoice vco v wave=sine level=0.5\n"
	    "connect v.out out.1\n");
	struct graph *edited = graph_compile(&drone, RATE, g);
	graph_continue(edited, g);
	unsigned was_asleep = graph_voices_asleep(g);
	float drone_peak = block_peak(edited);
	if (was_asleep != 7 || graph_voices_asleep(edited) != 0 ||
	    drone_peak < 1.0f)
		fail("sleep: after an edit to a drone, %u of 8 voices asleep "
		    "(were %u), peak %g (want several voices of 0.5)",
		    graph_voices_asleep(edited), was_asleep, drone_peak);
	else
		printf("ok: an edit to a patch without notes wakes every voice "
		    "(peak %g)\n", drone_peak);
	graph_free(edited);
	graph_free(g);

	/* no note input: a silent drone's voices run on */
	load(&p, "poly 4\nvoice vco v\nvoice vca a gain=0\nconnect v.out a.in\n"
	    "connect a.out out.1\n");
	g = graph_compile(&p, RATE, NULL);
	for (unsigned b = 0; b < 40; b++)
		block_peak(g);
	if (graph_voices_asleep(g) != 0)
		fail("sleep: a drone without notes: %u voices asleep", graph_voices_asleep(g));
	else
		printf("ok: a drone patch's voices never sleep\n");
	graph_free(g);

	enum { N = 100 * 256 };
	static float ref[N], got[N];
	load(&p, "poly 8\nvoice midi n bend=2\nvoice vco v wave=saw level=0.5\n"
	    "voice adsr env attack=0.001 sustain=0.7 release=0.03\n"
	    "voice ladder f cutoff=2000 res=0.3\nvoice vca a\n"
	    "connect n.pitch v.pitch\nconnect n.gate env.gate\n"
	    "connect v.out f.in\nconnect f.out a.in\nconnect env.out a.cv\n"
	    "connect a.out out.1\n");
	sleep_phrase(&p, 0, ref, N);
	static const unsigned threads[] = { 1, 2, 3 };
	int same = 1;
	for (unsigned t = 0; t < 3; t++) {
		sleep_phrase(&p, threads[t], got, N);
		same &= memcmp(ref, got, sizeof ref) == 0;
	}
	if (!same)
		fail("sleep: a phrase with sleeping voices differs between thread counts");
	else
		printf("ok: a phrase with sleeping voices is bit-identical with no "
		    "pool and on 1, 2 and 3 threads\n");
}

int
main(void)
{
	test_scopes();
	test_loop();
	test_notes();
	test_carry_over();
	test_determinism();
	test_threads();
	test_sum_tree();
	test_poly_max();
	test_routing();
	test_sounding();
	test_sleep();
	return test_status();
}
