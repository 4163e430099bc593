/*
 * dsp/lfo.c — low-frequency oscillator: sine, triangle, saw, square and
 * random (sample and hold), out = offset + depth * wave.
 *
 * The waves are the plain (not band-limited) shapes: at 0.01..100 Hz they
 * are control signals, and a square or saw used as audio will alias.  The
 * phase is a 32-bit accumulator; the sine reads the shared sine table.  The
 * random wave takes a new uniform value in [-1, 1) at each cycle start from
 * a generator seeded by the init seed, so a patch replays identically.
 * rate, depth and offset glide over SMOOTH_SECONDS; wave and phase act at
 * once (phase sets where a sync or the start lands in the cycle).
 *
 * With sync=tempo one cycle lasts `division` (1/4: a quarter note) at the
 * tempo the engine hands over (dsp/tempo.h), and the phase is locked to
 * the song position: phase = position / division + the phase parameter,
 * so every tempo-synced lfo of a patch lines up with the bar and with
 * JACK transport when it rolls.  The rate parameter, the rate input and
 * the sync input are then not used.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"
#include "wavetable.h"

enum { LFO_IN_SYNC, LFO_IN_RATE, LFO_N_IN };
enum { LFO_OUT_OUT, LFO_N_OUT };
enum {
	LFO_P_WAVE, LFO_P_RATE, LFO_P_DEPTH, LFO_P_OFFSET, LFO_P_PHASE,
	LFO_P_SYNC, LFO_P_DIVISION,
	LFO_N_P
};
enum { LFO_SINE, LFO_TRIANGLE, LFO_SAW, LFO_SQUARE, LFO_RANDOM };
enum { LFO_SYNC_FREE, LFO_SYNC_TEMPO };

struct lfo {
	const float *sine;        /* wavetable sine */
	float linc_scale;         /* log2(2^32 / rate) */
	unsigned wave;            /* LFO_SINE ... */
	float rate_linc;          /* log2 of the increment at the rate param */
	struct smoother rate_glide; /* octaves */
	float depth;
	struct smoother depth_glide;
	float offset;
	struct smoother offset_glide;
	uint32_t start;           /* phase after a sync, 2^-32 cycles */
	uint32_t phase;           /* 2^-32 cycles */
	float held;               /* current random value */
	float sync_last;          /* previous sync input sample */
	uint64_t rng;
	int started;              /* process has run */
	unsigned sync;            /* LFO_SYNC_* */
	double division;          /* whole notes per cycle (sync=tempo) */
	struct dsp_tempo tempo;   /* at the next block's first frame */
	int64_t tempo_cycle;      /* cycle index last seen (sync=tempo) */
};

static const char *const lfo_waves[] = {
	"sine", "triangle", "saw", "square", "random", NULL
};

static const char *const lfo_syncs[] = { "free", "tempo", NULL };
static const char *const lfo_divisions[] = { TEMPO_DIVISION_NAMES, NULL };

static const struct port_desc lfo_inputs[LFO_N_IN] = {
	[LFO_IN_SYNC] = { "sync", "restart at the phase parameter where this rises through 0" },
	[LFO_IN_RATE] = { "rate", "rate offset, octaves added to the rate parameter" },
};

static const struct port_desc lfo_outputs[LFO_N_OUT] = {
	[LFO_OUT_OUT] = { "out", "offset + depth x wave, wave in [-1, 1]" },
};

static const struct param_desc lfo_params[LFO_N_P] = {
	[LFO_P_WAVE] = { "wave", "", PARAM_CHOICE, 0, 4, 0,
	    "waveform: sine, triangle, saw (rising), square, random (sample and hold per cycle)", lfo_waves },
	[LFO_P_RATE] = { "rate", "Hz", PARAM_REAL, 0.01f, 100, 2,
	    "cycles per second (the rate input adds octaves)", NULL },
	[LFO_P_DEPTH] = { "depth", "", PARAM_REAL, 0, 1, 1,
	    "gain of the wave, linear", NULL },
	[LFO_P_OFFSET] = { "offset", "", PARAM_REAL, -1, 1, 0,
	    "added to the scaled wave", NULL },
	[LFO_P_PHASE] = { "phase", "cycles", PARAM_REAL, 0, 1, 0,
	    "where in the cycle the start and each sync land (0.25 = sine peak)", NULL },
	[LFO_P_SYNC] = { "sync", "", PARAM_CHOICE, 0, 1, LFO_SYNC_FREE,
	    "free: cycles at rate; tempo: one cycle per division, locked to the song position", lfo_syncs },
	[LFO_P_DIVISION] = { "division", "", PARAM_CHOICE, 0,
	    TEMPO_N_DIVISIONS - 1, TEMPO_DIVISION_QUARTER,
	    "sync=tempo: length of one cycle, a note value (1/4, 1/8d dotted, 1/8t triplet, ...)", lfo_divisions },
};

/* The wave at `phase` (2^-32 cycles); sine, triangle, saw and square all
 * start at 0 or at their low-to-high edge at phase 0. */
static inline float
lfo_wave(const struct lfo *l, unsigned wave, uint32_t phase)
{
	float x = (float)phase * (1.0f / 4294967296.0f);  /* [0, 1] */

	switch (wave) {
	case LFO_SINE:
		return wavetable_read(l->sine, phase);
	case LFO_TRIANGLE:
		/* 0 at 0, +1 at 1/4, -1 at 3/4 */
		return x < 0.25f ? 4.0f * x :
		    (x < 0.75f ? 2.0f - 4.0f * x : 4.0f * x - 4.0f);
	case LFO_SAW:
		return 2.0f * x - 1.0f;
	case LFO_SQUARE:
		return phase < 0x80000000u ? 1.0f : -1.0f;
	default:
		return l->held;
	}
}

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
lfo_init(void *self, float rate, uint32_t seed)
{
	struct lfo *l = self;

	wavetable_init();
	l->sine = wavetable_sine();
	l->linc_scale = (float)log2(4294967296.0 / rate);
	l->wave = (unsigned)lfo_params[LFO_P_WAVE].def;
	l->rate_linc = log2f(lfo_params[LFO_P_RATE].def) + l->linc_scale;
	l->depth = lfo_params[LFO_P_DEPTH].def;
	l->offset = lfo_params[LFO_P_OFFSET].def;
	glide_init(&l->rate_glide, rate);
	glide_init(&l->depth_glide, rate);
	glide_init(&l->offset_glide, rate);
	l->rng = rng_seed(seed);
	l->held = rng_uniform(&l->rng);
	l->sync = LFO_SYNC_FREE;
	l->division = tempo_division_length(TEMPO_DIVISION_QUARTER);
	l->tempo = tempo_default(rate);
	l->tempo_cycle = -1;
}

/* Take the song position and tempo for the coming block. */
static void
lfo_tempo(void *self, const struct dsp_tempo *t)
{
	struct lfo *l = self;

	l->tempo = *t;
}

/* Set parameter `index` (already clamped to its range). */
static void
lfo_set_param(void *self, unsigned index, float value)
{
	struct lfo *l = self;
	float old;

	switch (index) {
	case LFO_P_WAVE:
		l->wave = (unsigned)value;
		break;
	case LFO_P_RATE:
		old = l->rate_linc;
		l->rate_linc = log2f(value) + l->linc_scale;
		if (l->started)
			glide_retarget(&l->rate_glide, old, l->rate_linc);
		break;
	case LFO_P_DEPTH:
		old = l->depth;
		l->depth = value;
		if (l->started)
			glide_retarget(&l->depth_glide, old, value);
		break;
	case LFO_P_OFFSET:
		old = l->offset;
		l->offset = value;
		if (l->started)
			glide_retarget(&l->offset_glide, old, value);
		break;
	case LFO_P_PHASE:
		l->start = (uint32_t)((double)value * 4294967295.0);
		if (!l->started)
			l->phase = l->start;
		break;
	case LFO_P_SYNC:
		l->sync = (unsigned)value;
		break;
	case LFO_P_DIVISION:
		l->division = tempo_division_length((unsigned)value);
		break;
	}
}

/* Produce `frames` frames locked to the song position (sync=tempo). */
static void
lfo_process_tempo(struct lfo *l, float *y, unsigned frames)
{
	double cycles = l->tempo.position / l->division;
	double step = l->tempo.per_frame / l->division;   /* cycles per frame */
	double start = (double)l->start * (1.0 / 4294967296.0) + TEMPO_NUDGE;

	for (unsigned i = 0; i < frames; i++) {
		double c = cycles + step * (double)i + start;
		double whole = floor(c);
		uint32_t ph = (uint32_t)((c - whole) * 4294967296.0);
		if ((int64_t)whole != l->tempo_cycle) {
			/* a new cycle (or a jump of the song position) */
			if (l->tempo_cycle >= 0)
				l->held = rng_uniform(&l->rng);
			l->tempo_cycle = (int64_t)whole;
		}
		float depth = l->depth + smoother_next(&l->depth_glide);
		float offset = l->offset + smoother_next(&l->offset_glide);
		y[i] = offset + depth * lfo_wave(l, l->wave, ph);
		l->phase = ph;
	}
	l->tempo.position += l->tempo.per_frame * (double)frames;
}

/* Produce `frames` frames of output. */
static void
lfo_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct lfo *l = self;
	const float *sync = in[LFO_IN_SYNC], *rate = in[LFO_IN_RATE];
	float *y = out[LFO_OUT_OUT];
	uint32_t ph = l->phase;
	uint32_t inc = 0;

	l->started = 1;
	if (l->sync == LFO_SYNC_TEMPO) {
		lfo_process_tempo(l, y, frames);
		return;
	}
	if (rate == NULL && !smoother_moving(&l->rate_glide))
		inc = (uint32_t)fast_exp2f(l->rate_linc);
	for (unsigned i = 0; i < frames; i++) {
		if (rate != NULL || smoother_moving(&l->rate_glide)) {
			float o = l->rate_linc + smoother_next(&l->rate_glide);
			if (rate != NULL)
				o += rate[i];
			inc = (uint32_t)fast_exp2f(clampf(o, 0.0f, 31.0f));
		}
		if (sync != NULL) {
			if (l->sync_last <= 0.0f && sync[i] > 0.0f) {
				ph = l->start;
				l->held = rng_uniform(&l->rng);
			}
			l->sync_last = sync[i];
		}
		float depth = l->depth + smoother_next(&l->depth_glide);
		float offset = l->offset + smoother_next(&l->offset_glide);
		y[i] = offset + depth * lfo_wave(l, l->wave, ph);
		uint32_t next = ph + inc;
		if (next < ph)          /* wrapped: a new cycle */
			l->held = rng_uniform(&l->rng);
		ph = next;
	}
	l->phase = ph;
}

const struct module_type lfo_module = {
	.name = "lfo",
	.help = "low-frequency oscillator: sine, triangle, saw, square, random; out = offset + depth x wave",
	.size = sizeof(struct lfo),
	.inputs = lfo_inputs,
	.n_inputs = LFO_N_IN,
	.outputs = lfo_outputs,
	.n_outputs = LFO_N_OUT,
	.params = lfo_params,
	.n_params = LFO_N_P,
	.init = lfo_init,
	.set_param = lfo_set_param,
	.process = lfo_process,
	.tempo = lfo_tempo,
};
