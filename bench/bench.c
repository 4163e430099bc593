/*
 * bench/bench.c — forksynth's speed, measured: nanoseconds per sample for
 * each module, and the render time of a 64-voice patch.  Prints a markdown
 * table and writes it to the file named by --out, so that runs can be
 * compared across commits.  Nothing here asserts a timing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convolver_core.h"
#include "dsp_util.h"
#include "graph.h"
#include "guard.h"
#include "log.h"
#include "module.h"
#include "lanes.h"
#include "patch.h"
#include "scope.h"
#include "voice_patch.h"

#define RATE 48000.0f
#define BLOCK 256
#define RUNS 9

/* One measured case of one module type. */
struct module_case {
	const char *label;         /* row name */
	const char *type;
	const char *params;        /* "name=value ..." */
	uint64_t connected;        /* bit k: input k fed a test signal (which:
				      AUDIO_IN, GATE_IN, SWEEP_IN) */
	const char *aim;           /* the aim, for the reader */
};

/* Row lengths of the modules' input and output buffers: a block and some
 * more, so that no output row starts at the same offset in a 4 KiB page as
 * an input row (rows of exactly BLOCK floats would, and the CPU then
 * stalls loads behind stores it takes for the same address: 4K aliasing,
 * up to 1.6x on a vco's process). */
#define IN_ROW (BLOCK + 48)
#define OUT_ROW (BLOCK + 80)

/* In `connected`: input k fed a 1.1 kHz sine (crossing 0) instead. */
#define AUDIO_IN(k) (UINT64_C(1) << (16 + (k)))
/* In `connected`: input k fed a gate, high for the first half of each
 * block, low for the second (an envelope always in some stage). */
#define GATE_IN(k) (UINT64_C(1) << (32 + (k)))
/* In `connected`: input k fed a slow straight sweep, 0.2 to 0.24 across
 * each block (7.5 units a second: an envelope's or a 2 Hz LFO's pace;
 * smooth but for the jump back at each block's start). */
#define SWEEP_IN(k) (UINT64_C(1) << (48 + (k)))
/* In `connected`: parameter 0 set to 0.5 and 1.5 in turn (clamped to its
 * range) every block, so that it always glides (the bit of input 15: no
 * module has that many inputs). */
#define GLIDE_P0 (UINT64_C(1) << 15)

/* Input k's sample i of a case's test signal (every block the same). */
static float
test_signal(const struct module_case *mc, unsigned k, unsigned i)
{
	if (mc->connected & AUDIO_IN(k))
		return sinf(0.144f * i);
	if (mc->connected & GATE_IN(k))
		return i < BLOCK / 2 ? 1.0f : 0.0f;
	if (mc->connected & SWEEP_IN(k))
		return 0.2f + 0.04f * (float)i / BLOCK;
	/* a slow sweep, a level that never opens a gate, and audio */
	return k == 0 ? 0.5f * sinf(0.05f * i) : 0.4f + 0.3f * sinf(0.01f * i);
}

static const struct module_case module_cases[] = {
	{ "vco saw, fixed pitch",      "vco",    "wave=saw",               0x0, "<= 10" },
	{ "vco saw, pitch modulated",  "vco",    "wave=saw",               0x1, "<= 10" },
	{ "vco pulse, PWM",            "vco",    "wave=pulse",             0x5, "" },
	{ "vco triangle",              "vco",    "wave=triangle",          0x0, "" },
	{ "vco sine",                  "vco",    "wave=sine",              0x0, "" },
	{ "vco saw, hard sync",        "vco",    "wave=saw freq=2500",     0x8 | AUDIO_IN(3), "" },
	{ "vco sine, hard sync",       "vco",    "wave=sine freq=2500",    0x8 | AUDIO_IN(3), "" },
	{ "lfo sine",                  "lfo",    "",                       0x0, "" },
	{ "lfo sine, sync=tempo 1/8",  "lfo",    "sync=tempo division=1/8", 0x0, "" },
	{ "noise white",               "noise",  "color=white",            0x0, "" },
	{ "noise pink",                "noise",  "color=pink",             0x0, "" },
	{ "adsr, gate low (idle)",     "adsr",   "",                       0x1, "" },
	{ "adsr, gate every 128 frames", "adsr", "attack=0.001 decay=0.002 release=0.002", 0x1 | GATE_IN(0), "" },
	{ "ladder linear, fixed",      "ladder", "res=0.5",                0x1, "<= 25" },
	{ "ladder linear, modulated",  "ladder", "res=0.5",                0x5, "<= 25" },
	{ "ladder linear, slow sweep", "ladder", "res=0.5",                0x5 | SWEEP_IN(2), "" },
	{ "ladder drive, modulated",   "ladder", "res=0.5 drive=1",        0x5, "<= 80" },
	{ "ladder drive 4x os, fixed", "ladder", "res=0.5 drive=1",        0x1, "" },
	{ "ladder drive asym, modulated", "ladder", "res=0.5 drive=1 asym=0.5", 0x5, "" },
	{ "svf, modulated",            "svf",    "q=2",                    0x5, "" },
	{ "svf, slow sweep",           "svf",    "q=2",                    0x5 | SWEEP_IN(2), "" },
	{ "vca with cv",               "vca",    "",                       0x3, "" },
	{ "mixer 4 inputs",            "mixer",  "",                       0xf, "" },
	{ "vca, gain gliding",         "vca",    "",                       0x3 | GLIDE_P0, "" },
	{ "mixer, level gliding",      "mixer",  "",                       0xf | GLIDE_P0, "" },
	{ "pan",                       "pan",    "",                       0x1, "" },
	{ "pan, position gliding",     "pan",    "",                       0x1 | GLIDE_P0, "" },
	{ "pan, position cv",          "pan",    "",                       0x3, "" },
	{ "delay 0.3 s, feedback",     "delay",  "time=0.3 feedback=0.5",  0x1, "" },
	{ "delay 1/8 at tempo, feedback", "delay", "sync=tempo division=1/8 feedback=0.5", 0x1, "" },
	{ "seq 8 steps, 1/16",         "seq",    "division=1/16 s2=7 s5=12", 0x0, "" },
	{ "waveshaper saturate, 8x",   "waveshaper", "drive=20",           0x1, "" },
	{ "waveshaper fold, 8x",       "waveshaper", "mode=fold drive=20", 0x1, "" },
	{ "slew linear",               "slew",   "rise=0.01 fall=0.05",    0x1, "" },
	{ "sh, triggered",             "sh",     "",                       0x3, "" },
	{ "ring, internal carrier",    "ring",   "",                       0x1, "" },
	{ "chorus (per stereo frame)", "chorus", "",                       0x1, "" },
	{ "reverb (per stereo frame)", "reverb", "decay=2",                0x3, "<= 50" },
	{ "midi",                      "midi",   "",                       0x0, "" },
	{ "compressor, stereo",        "compressor", "threshold=-18 ratio=4", 0x3, "" },
	{ "compressor, sidechain",     "compressor", "threshold=-18 ratio=4", 0x7, "" },
	{ "limiter, no look-ahead",    "limiter", "gain=12",              0x3, "" },
	{ "limiter, 5 ms look-ahead",  "limiter", "gain=12 lookahead=0.005", 0x3, "" },
};

/* Monotonic time in nanoseconds. */
static double
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Set "name=value" pairs on a module instance. */
static void
apply_params(const struct module_type *t, void *state, const char *params)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof buf, "%s", params);
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		int i = module_param_index(t, tok);
		if (i < 0)
			fatal("bench: %s has no parameter %s", t->name, tok);
		float v;
		const struct param_desc *pd = &t->params[i];
		if (pd->kind == PARAM_CHOICE) {
			v = 0;
			for (unsigned c = 0; pd->choices[c]; c++)
				if (strcmp(pd->choices[c], eq + 1) == 0)
					v = (float)c;
		} else {
			v = strtof(eq + 1, NULL);
		}
		t->set_param(state, (unsigned)i, param_clamp(pd, v));
	}
}

/* Median ns per sample of one module case over RUNS runs of one second. */
/* Block b of a case: with GLIDE_P0, set parameter 0 to 0.5 or 1.5. */
static void
glide_step(const struct module_case *mc, const struct module_type *t,
    void *state, unsigned b)
{
	if ((mc->connected & GLIDE_P0) && t->n_params > 0)
		t->set_param(state, 0, param_clamp(&t->params[0],
		    b & 1 ? 0.5f : 1.5f));
}

static double
bench_module(const struct module_case *mc)
{
	const struct module_type *t = module_find(mc->type);
	if (t == NULL)
		fatal("bench: no module type %s", mc->type);
	void *state = xaligned(module_state_size(t, RATE));
	t->init(state, RATE, 1);
	apply_params(t, state, mc->params);

	static float in_buf[MODULE_MAX_PORTS][IN_ROW], out_buf[MODULE_MAX_PORTS][OUT_ROW];
	const float *in[MODULE_MAX_PORTS];
	float *out[MODULE_MAX_PORTS];
	for (unsigned k = 0; k < MODULE_MAX_PORTS; k++) {
		/* a slow sweep, a gate pattern and audio: plausible signals */
		for (unsigned i = 0; i < BLOCK; i++)
			in_buf[k][i] = test_signal(mc, k, i);
		in[k] = (mc->connected >> k) & 1 ? in_buf[k] : NULL;
		out[k] = out_buf[k];
	}
	if (t->event != NULL) {
		struct note_event ev = { .frame = 0, .kind = NOTE_EVENT_ON, .note = 60, .velocity = 100 };
		t->event(state, &ev);
	}
	double times[RUNS];
	unsigned blocks = (unsigned)RATE / BLOCK;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned b = 0; b < blocks; b++) {
			glide_step(mc, t, state, b);
			t->process(state, in, out, BLOCK);
		}
		times[r] = (now_ns() - t0) / ((double)blocks * BLOCK);
	}
	free(state);
	qsort(times, RUNS, sizeof times[0], cmp_double);
	return times[RUNS / 2];
}

/* Median ns per voice-sample of one module case with LANES_MAX voices side
 * by side through the type's lane kernel on `path` (dsp/lanes.h): the
 * same signals in every lane, each lane its own seed.  -1: no kernel, or
 * the CPU lacks the path. */
static double
bench_module_lanes(const struct module_case *mc, enum lanes_path path)
{
	const struct module_type *t = module_find(mc->type);
	if (t == NULL || t->process_lanes == NULL || !lanes_supported(path))
		return -1.0;
	void *state[LANES_MAX];
	static float in_buf[MODULE_MAX_PORTS][IN_ROW];
	static float out_buf[LANES_MAX][MODULE_MAX_PORTS][OUT_ROW];
	const float *in[LANES_MAX][MODULE_MAX_PORTS];
	float *out[LANES_MAX][MODULE_MAX_PORTS];
	const float *const *in_rows[LANES_MAX];
	float *const *out_rows[LANES_MAX];
	for (unsigned k = 0; k < MODULE_MAX_PORTS; k++)
		for (unsigned i = 0; i < BLOCK; i++)
			in_buf[k][i] = test_signal(mc, k, i);
	for (unsigned l = 0; l < LANES_MAX; l++) {
		state[l] = xaligned(module_state_size(t, RATE));
		t->init(state[l], RATE, 1 + l);
		apply_params(t, state[l], mc->params);
		for (unsigned k = 0; k < MODULE_MAX_PORTS; k++) {
			in[l][k] = (mc->connected >> k) & 1 ? in_buf[k] : NULL;
			out[l][k] = out_buf[l][k];
		}
		in_rows[l] = in[l];
		out_rows[l] = out[l];
		if (t->event != NULL) {
			struct note_event ev = { .frame = 0, .kind = NOTE_EVENT_ON,
			    .note = (uint8_t)(60 + l), .velocity = 100 };
			t->event(state[l], &ev);
		}
	}
	double times[RUNS];
	unsigned blocks = (unsigned)RATE / BLOCK;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned b = 0; b < blocks; b++) {
			for (unsigned l = 0; l < LANES_MAX; l++)
				glide_step(mc, t, state[l], b);
			t->process_lanes(state, in_rows, out_rows, LANES_MAX, BLOCK, path);
		}
		times[r] = (now_ns() - t0) / ((double)blocks * BLOCK * LANES_MAX);
	}
	for (unsigned l = 0; l < LANES_MAX; l++)
		free(state[l]);
	qsort(times, RUNS, sizeof times[0], cmp_double);
	return times[RUNS / 2];
}

/* Percent of one core the convolver takes for a stereo 2 s IR of noise
 * at `block` frames per call (median of RUNS runs of 2 s of audio). */
static double
bench_convolver(unsigned block)
{
	size_t len = 2 * (size_t)RATE;
	float *ir[2] = { xmalloc(len * sizeof(float)), xmalloc(len * sizeof(float)) };
	uint32_t x = 1;
	for (size_t i = 0; i < len; i++)
		for (int c = 0; c < 2; c++) {
			x = x * 1664525u + 1013904223u;
			ir[c][i] = ((float)(x >> 8) / 16777216.0f - 0.5f) *
			    expf(-3.0f * (float)i / (float)len);
		}
	char err[256];
	struct conv_ir *cir = conv_ir_create((const float *const *)ir, 2, len, err, sizeof err);
	if (cir == NULL)
		fatal("bench: %s", err);
	struct conv *c = conv_create(cir);
	static float in[2][256], out[2][256];
	for (int i = 0; i < 256; i++)
		in[0][i] = in[1][i] = 0.3f * sinf(0.05f * i);
	double times[RUNS];
	unsigned calls = 2 * (unsigned)RATE / block;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned b = 0; b < calls; b++)
			conv_process(c, in[0], in[1], out[0], out[1], block);
		times[r] = (now_ns() - t0) / 1e9 / 2.0 * 100.0;
	}
	conv_free(c);
	conv_ir_free(cir);
	free(ir[0]);
	free(ir[1]);
	qsort(times, RUNS, sizeof times[0], cmp_double);
	return times[RUNS / 2];
}


/* The bench voice patch, loaded. */
static void
load_voice_patch(struct patch *p)
{
	struct patch_error err;
	patch_init(p, 2, 2);
	if (patch_load_text(p, voice_patch, "bench patch", &err) != 0) {
		char msg[512];
		patch_error_format(&err, msg, sizeof msg);
		fatal("bench: %s", msg);
	}
}

/* Seconds of wall time to render `seconds` of the 64-voice patch with all
 * voices sounding, on this thread, its lane kernels on `path`. */
static double
bench_voices(double seconds, unsigned *voices, enum lanes_path path)
{
	static struct patch p;
	load_voice_patch(&p);
	*voices = p.poly;
	lanes_force(path);
	struct graph *g = graph_compile(&p, RATE, NULL);
	static float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	unsigned long total = (unsigned long)(seconds * RATE), frame = 0;
	double t0 = now_ns();
	for (unsigned b = 0; frame < total; b++, frame += BLOCK) {
		/* a new note every 40 ms; each held about 2.5 s: all 64 sounding */
		if (b % 8 == 0) {
			unsigned k = (b / 8) % 64;
			graph_note_on(g, 0, 36 + k % 48, 40 + (k * 37) % 88);
		}
		if (b % 8 == 4 && b >= 8 * 64)
			graph_note_off(g, 0, 36 + ((b / 8) - 64) % 48);
		graph_process(g, NULL, out, BLOCK);
	}
	double wall = (now_ns() - t0) / 1e9;
	graph_free(g);
	return wall;
}

/* ns per frame of the 64-voice patch with `held` notes held and every
 * other voice released long ago (asleep: src/graph.c voices_sleep), on
 * this thread; *asleep gets the voices asleep while it was timed. */
static double
bench_sleeping(unsigned held, unsigned *asleep)
{
	static struct patch p;
	load_voice_patch(&p);
	struct graph *g = graph_compile(&p, RATE, NULL);
	static float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	for (unsigned k = 0; k < p.poly; k++)
		graph_note_on(g, 0, 36 + k % 64, 100);
	graph_process(g, NULL, out, BLOCK);
	for (unsigned k = held; k < p.poly; k++)
		graph_note_off(g, 0, 36 + k % 64);
	for (unsigned b = 0; b < (unsigned)(2.0f * RATE) / BLOCK; b++)
		graph_process(g, NULL, out, BLOCK);   /* the releases end */
	*asleep = graph_voices_asleep(g);
	unsigned blocks = (unsigned)(5.0f * RATE) / BLOCK;
	double t0 = now_ns();
	for (unsigned b = 0; b < blocks; b++)
		graph_process(g, NULL, out, BLOCK);
	double ns = (now_ns() - t0) / ((double)blocks * BLOCK);
	graph_free(g);
	return ns;
}

/* Median ns per call over RUNS runs: the child's blow-up test of one
 * module output of BLOCK frames (which = 0), the parent's guarded copy of
 * a stereo period out of the region (1), and the plain copy it replaced
 * the finite-only loop with (2, memcpy: the floor). */
static double
bench_guard(int which)
{
	static float src[2][BLOCK], dst[2][BLOCK];
	static struct output_guard g;
	volatile int sink = 0;
	double times[RUNS];
	unsigned calls = 200000;

	guard_init(&g, 0);
	for (unsigned i = 0; i < BLOCK; i++)
		src[0][i] = src[1][i] = 0.9f * sinf(0.05f * (float)i);
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned k = 0; k < calls; k++) {
			if (which == 0) {
				sink += guard_exceeds(src[k & 1], BLOCK, guard_limit_bits(1000.0f));
			} else {
				for (unsigned c = 0; c < 2; c++) {
					if (which == 1)
						guard_copy(&g, c, dst[c], src[c], BLOCK);
					else
						memcpy(dst[c], src[c], sizeof dst[c]);
				}
				__asm__ volatile("" : : "r"(dst) : "memory");
			}
		}
		times[r] = (now_ns() - t0) / calls;
	}
	(void)sink;
	qsort(times, RUNS, sizeof times[0], cmp_double);
	return times[RUNS / 2];
}

/* What a structural edit costs on the 64-voice patch with every voice
 * sounding, median of 9 edits (a connection made, then cut, in turn):
 * out[0] the compile on the control thread, ms; out[1] the swap at the
 * block boundary (graph_continue), us; out[2] ns per frame of the block
 * right after the edit, its connection fading; out[3] of a block once the
 * fade is over (src/graph.c). */
static void
bench_edit(double out[4])
{
	static struct patch p;
	struct patch_error err;
	static float l[BLOCK], r[BLOCK];
	float *o[2] = { l, r };
	double t[4][RUNS];

	patch_init(&p, 2, 2);
	if (patch_load_text(&p, voice_patch, "bench patch", &err) != 0 ||
	    patch_exec_line(&p, "global vco benchx wave=sine freq=300 level=0.1",
	    0, &err) != 0)
		fatal("bench: the edit patch does not load");
	struct graph *g = graph_compile(&p, RATE, NULL);
	for (unsigned k = 0; k < 64; k++)
		graph_note_on(g, k, 36 + k % 48, 100);
	for (unsigned b = 0; b < 64; b++)
		graph_process(g, NULL, o, BLOCK);
	for (int run = 0; run < RUNS; run++) {
		const char *edit = run % 2 == 0 ? "connect benchx.out out.1" :
		    "disconnect benchx.out out.1";
		if (patch_exec_line(&p, edit, 0, &err) != 0)
			fatal("bench: %s refused", edit);
		double t0 = now_ns();
		struct graph *next = graph_compile(&p, RATE, g);
		double t1 = now_ns();
		graph_continue(next, g);
		double t2 = now_ns();
		graph_process(next, NULL, o, BLOCK);
		double t3 = now_ns();
		graph_free(g);
		g = next;
		graph_process(g, NULL, o, BLOCK);
		double t4 = now_ns();
		graph_process(g, NULL, o, BLOCK);
		double t5 = now_ns();
		(void)t4;
		t[0][run] = (t1 - t0) / 1e6;
		t[1][run] = (t2 - t1) / 1e3;
		t[2][run] = (t3 - t2) / BLOCK;
		t[3][run] = (t5 - t4) / BLOCK;
	}
	graph_free(g);
	for (int k = 0; k < 4; k++) {
		qsort(t[k], RUNS, sizeof t[k][0], cmp_double);
		out[k] = t[k][RUNS / 2];
	}
}

/* The scope's copies (src/scope.c), median of 9 runs: out[0] ns per
 * tap_push of a stereo period (the JACK thread's whole share), the ring
 * drained every 16 periods as the UI does; out[1] and out[2] ns per frame
 * of the 64-voice patch's blocks, all voices sounding, without and with
 * the probe on flt.out (the sum of 64 voices, on the engine thread). */
static void
bench_scope(double out[3])
{
	static struct scope_history hist[2];
	static float l[BLOCK], r[BLOCK], probe[BLOCK];
	float *o[2] = { l, r };
	const float *chans[2] = { l, r };
	double t[3][RUNS];
	struct tap *tap = tap_create(2, 32768);
	static struct patch p;
	struct patch_error err;

	for (unsigned i = 0; i < BLOCK; i++)
		l[i] = r[i] = sinf((float)i);
	for (int run = 0; run < RUNS; run++) {
		double sum = 0;
		for (int k = 0; k < 4096; k++) {
			double t0 = now_ns();
			tap_push(tap, chans, BLOCK);
			sum += now_ns() - t0;
			if (k % 16 == 15)
				tap_drain(tap, hist);
		}
		t[0][run] = sum / 4096;
	}
	tap_free(tap);
	patch_init(&p, 2, 2);
	if (patch_load_text(&p, voice_patch, "bench patch", &err) != 0)
		fatal("bench: the voice patch does not load");
	struct graph *g = graph_compile(&p, RATE, NULL);
	for (unsigned k = 0; k < 64; k++)
		graph_note_on(g, k, 36 + k % 48, 100);
	unsigned port = 0;
	int flt = graph_find_output(g, "flt", "out", &port);
	for (int run = 0; run < RUNS; run++)
		for (int with = 0; with < 2; with++) {
			graph_set_probe(g, with ? flt : -1, port, probe);
			double t0 = now_ns();
			for (int b = 0; b < 64; b++)
				graph_process(g, NULL, o, BLOCK);
			t[1 + with][run] = (now_ns() - t0) / (64.0 * BLOCK);
		}
	graph_free(g);
	for (int k = 0; k < 3; k++) {
		qsort(t[k], RUNS, sizeof t[k][0], cmp_double);
		out[k] = t[k][RUNS / 2];
	}
}

int
main(int argc, char **argv)
{
	const char *out_path = NULL;
	/* --rows TEXT: only the module rows whose label contains TEXT, and
	 * none of the other sections (a quick look at a few modules) */
	const char *rows = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out_path = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
			rows = argv[++i];
	}

	dsp_flush_denormals();
	char table[16384];
	size_t used = 0;
#define EMIT(...) used += (size_t)snprintf(table + used, sizeof table - used, __VA_ARGS__)

	char host[128] = "unknown";
	gethostname(host, sizeof host);
	char cpu[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				snprintf(cpu, sizeof cpu, "%.200s", c ? c + 2 : line);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		fclose(f);
	}
	time_t now = time(NULL);
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));

	EMIT("# forksynth bench\n\n");
	EMIT("%s, %s, %ld online CPUs, %g Hz, blocks of %d frames, median of %d runs.\n\n",
	    date, cpu, sysconf(_SC_NPROCESSORS_ONLN), RATE, BLOCK, RUNS);
	EMIT("## Modules (one thread)\n\n");
	EMIT("ns per sample of one instance through process (scalar), and ns per "
	    "voice-sample of %d instances side by side through the type's lane "
	    "kernel (dsp/lanes.h) on SSE2 and AVX2, where it has one; speedup: "
	    "scalar over the widest path.\n\n", LANES_MAX);
	EMIT("| module | scalar ns/sample | sse2 ns/voice-sample | avx2 "
	    "ns/voice-sample | speedup | aim |\n|---|---:|---:|---:|---:|---|\n");
	for (size_t i = 0; i < sizeof module_cases / sizeof module_cases[0]; i++) {
		const struct module_case *mc = &module_cases[i];
		if (rows != NULL && strstr(mc->label, rows) == NULL)
			continue;
		double ns = bench_module(mc);
		double sse = bench_module_lanes(mc, LANES_SSE2);
		double avx = bench_module_lanes(mc, LANES_AVX2);
		double best = avx > 0 ? avx : sse;
		char c_sse[32] = "—", c_avx[32] = "—", c_up[32] = "";
		if (sse > 0)
			snprintf(c_sse, sizeof c_sse, "%.2f", sse);
		if (avx > 0)
			snprintf(c_avx, sizeof c_avx, "%.2f", avx);
		if (best > 0)
			snprintf(c_up, sizeof c_up, "%.1fx", ns / best);
		EMIT("| %s | %.2f | %s | %s | %s | %s |\n", mc->label, ns, c_sse,
		    c_avx, c_up, mc->aim);
		fprintf(stderr, "bench: %s: %.2f ns/sample, lanes %s / %s\n",
		    mc->label, ns, c_sse, c_avx);
	}

	if (rows != NULL)
		goto done;

	EMIT("\n## Convolver (stereo 2 s IR, one thread, estimated or cached FFT plans)\n\n");
	EMIT("| frames per call | share of one core | aim |\n|---:|---:|---|\n");
	EMIT("| 64 | %.2f %% | <= 1 %% |\n", bench_convolver(64));
	EMIT("| 256 | %.2f %% | <= 0.6 %% |\n", bench_convolver(256));

	unsigned voices;
	double seconds = 30.0;
	EMIT("\n## 64-voice patch (two saws, enveloped ladder, VCA with ADSR; one thread)\n\n");
	EMIT("Voices in groups side by side through the lane kernels on each path "
	    "(scalar: one by one); every path renders the same samples.\n\n");
	EMIT("| path | audio rendered | wall time | real-time factor | ns per "
	    "voice-sample | aim |\n|---|---:|---:|---:|---:|---|\n");
	enum lanes_path was = lanes_path();
	static const enum lanes_path paths[] = { LANES_SCALAR, LANES_SSE2, LANES_AVX2 };
	for (unsigned k = 0; k < 3; k++) {
		if (!lanes_supported(paths[k]))
			continue;
		double wall = bench_voices(seconds, &voices, paths[k]);
		double ns = wall * 1e9 / (seconds * RATE * voices);
		EMIT("| %s | %.0f s | %.2f s | %.1fx | %.1f | <= 20 ns per "
		    "voice-sample |\n", lanes_path_name(paths[k]), seconds, wall,
		    seconds / wall, ns);
		fprintf(stderr, "bench: 64 voices, %s: %.1f ns per voice-sample\n",
		    lanes_path_name(paths[k]), ns);
	}
	lanes_force(was);

	unsigned asleep_4, asleep_0;
	double ns_4 = bench_sleeping(4, &asleep_4);
	double ns_0 = bench_sleeping(0, &asleep_0);
	EMIT("\n## Sleeping voices (the 64-voice patch, one thread)\n\n");
	EMIT("| notes held | voices asleep | ns per frame | aim |\n|---:|---:|---:|---|\n");
	EMIT("| 4 | %u | %.1f | about 4/64 of every voice sounding |\n", asleep_4, ns_4);
	EMIT("| 0 | %u | %.1f | near 0 |\n", asleep_0, ns_0);
	fprintf(stderr, "bench: asleep: 4 held %.1f ns/frame (%u asleep), none "
	    "%.1f (%u)\n", ns_4, asleep_4, ns_0, asleep_0);

	double edit[4];
	bench_edit(edit);
	EMIT("\n## A structural edit on that patch, voices sounding (one thread)\n\n");
	EMIT("| compile (control thread) | swap at the block boundary | block with "
	    "a connection fading | block after | aim |\n|---:|---:|---:|---:|---|\n");
	EMIT("| %.2f ms | %.2f us | %.1f ns/frame | %.1f ns/frame | the fade costs "
	    "little next to the block; the swap well under a period |\n",
	    edit[0], edit[1], edit[2], edit[3]);
	fprintf(stderr, "bench: edit: compile %.2f ms, swap %.2f us, fading block "
	    "%.1f ns/frame, after %.1f\n", edit[0], edit[1], edit[2], edit[3]);

	double check = bench_guard(0), copy = bench_guard(1), plain = bench_guard(2);
	EMIT("\n## Output safety (src/guard.c, one thread)\n\n");
	EMIT("| what | per call | per sample | aim |\n|---|---:|---:|---|\n");
	EMIT("| child: blow-up test of one module output, %d frames | %.1f ns | %.3f ns | "
	    "small next to a module's ns/sample |\n", BLOCK, check, check / BLOCK);
	EMIT("| parent: guarded copy of a stereo period, %d frames | %.1f ns | %.3f ns | "
	    "near the plain copy |\n", BLOCK, copy, copy / (2 * BLOCK));
	EMIT("| plain copy (memcpy) of the same, for scale | %.1f ns | %.3f ns | |\n",
	    plain, plain / (2 * BLOCK));

	double scope[3];
	bench_scope(scope);
	EMIT("\n## The scope's copies (src/scope.c, one thread)\n\n");
	EMIT("| what | cost | aim |\n|---|---:|---|\n");
	EMIT("| JACK thread: tap_push of a stereo period, %d frames | %.1f ns | "
	    "under 1 us: a small share of a period |\n", BLOCK, scope[0]);
	EMIT("| 64-voice patch, no probe | %.1f ns/frame | |\n", scope[1]);
	EMIT("| the same, probe on flt.out (64 voices summed) | %.1f ns/frame | "
	    "at most a tenth more |\n", scope[2]);
	fprintf(stderr, "bench: scope: tap_push %.1f ns; patch %.1f, probed %.1f "
	    "ns/frame\n", scope[0], scope[1], scope[2]);

done:
	fputs(table, stdout);
	if (out_path != NULL) {
		FILE *o = fopen(out_path, "w");
		if (o == NULL)
			fatal("bench: cannot write %s", out_path);
		fputs(table, o);
		fclose(o);
		fprintf(stderr, "bench: wrote %s\n", out_path);
	}
	return 0;
}
