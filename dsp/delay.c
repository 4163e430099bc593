/*
 * dsp/delay.c — delay line with feedback, 6-point (5th-order) Lagrange
 * interpolation and smoothed, modulatable time.
 *
 * The read point is always kept in the central interval of the six taps,
 * where Lagrange interpolation is flattest: at 48 kHz the loss at 10 kHz is
 * at most about 0.16 dB (fraction 0.5) and 0 dB at whole samples.  The
 * shortest delay is therefore 3 samples (the taps must lie strictly in the
 * past so the feedback path has no zero-delay loop); the longest is 2 s.
 * The buffer is sized from the rate (size_for_rate), a power of two.
 *
 * With sync=tempo the time is one `division` (1/8: an eighth note) at the
 * tempo the engine hands over (dsp/tempo.h) instead of the time parameter,
 * held to 2 s at slow tempos; a tempo change glides like a turned knob.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

#define DELAY_MAX_SECONDS 2.0f
#define DELAY_MIN_SAMPLES 3.0f
/* Samples kept beyond the longest delay for the interpolator's taps. */
#define DELAY_MARGIN 16
/* Time constant of delay-time changes, s: a turned knob glides like tape. */
#define DELAY_TIME_SMOOTH 0.05f
/* A damping cutoff at or above this is off (the loop is not filtered), Hz. */
#define DELAY_DAMP_OFF 20000.0f

enum { DELAY_IN, DELAY_TIME_CV, DELAY_N_IN };
enum { DELAY_OUT, DELAY_N_OUT };
enum {
	DELAY_TIME, DELAY_FEEDBACK, DELAY_MIX, DELAY_DAMP, DELAY_SYNC,
	DELAY_DIVISION, DELAY_N_P
};
enum { DELAY_SYNC_FREE, DELAY_SYNC_TEMPO };

struct delay {
	float rate;
	unsigned mask;             /* buffer length - 1 (a power of two) */
	unsigned w;                /* write index */
	float max_samples;         /* longest delay, samples */
	double time;               /* smoothed delay, samples */
	double time_target;        /* samples */
	double time_coef;          /* fraction of the distance per sample */
	struct smoother feedback;  /* 0..0.99 */
	struct smoother mix;       /* 0 dry .. 1 wet */
	struct smoother damp;      /* one-pole coefficient, 1 = off */
	float lp;                  /* damping filter state */
	int running;               /* process has run: smooth changes */
	double time_param;         /* the time parameter, samples */
	unsigned sync;             /* DELAY_SYNC_* */
	double division;           /* whole notes (sync=tempo) */
	double per_frame;          /* whole notes per frame, last told */
	float buf[];               /* mask + 1 samples */
};

/* Buffer length, samples: a power of two holding 2 s plus the margin. */
static unsigned
delay_length(float rate)
{
	unsigned need = (unsigned)ceilf(DELAY_MAX_SECONDS * rate) + DELAY_MARGIN;
	unsigned len = 1;

	while (len < need)
		len <<= 1;
	return len;
}

/* Bytes of state at `rate`: the struct and its buffer. */
static size_t
delay_size_for_rate(float rate)
{
	return sizeof(struct delay) + delay_length(rate) * sizeof(float);
}

/* One-pole lowpass coefficient for a cutoff in Hz (1 = off). */
static float
delay_damp_coef(float rate, float hz)
{
	if (hz >= DELAY_DAMP_OFF || hz >= 0.5f * rate)
		return 1.0f;
	return 1.0f - expf(-2.0f * (float)DSP_PI * hz / rate);
}

static const char *const delay_syncs[] = { "free", "tempo", NULL };
static const char *const delay_divisions[] = { TEMPO_DIVISION_NAMES, NULL };

static const struct param_desc delay_params[DELAY_N_P] = {
	[DELAY_TIME] = { .name = "time", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0001f, .max = 2.0f, .def = 0.3f,
	    .help = "delay time, seconds (at least 3 samples; changes glide, 50 ms)" },
	[DELAY_FEEDBACK] = { .name = "feedback", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 0.99f, .def = 0.3f,
	    .help = "part of the delayed signal fed back, 0..0.99" },
	[DELAY_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 0.5f,
	    .help = "dry/wet crossfade, 0 dry only .. 1 wet only" },
	[DELAY_DAMP] = { .name = "damp", .unit = "Hz", .kind = PARAM_REAL,
	    .min = 200.0f, .max = 20000.0f, .def = 20000.0f,
	    .help = "lowpass cutoff in the feedback loop, Hz (20000 = off)" },
	[DELAY_SYNC] = { .name = "sync", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = 1, .def = DELAY_SYNC_FREE,
	    .help = "free: the time parameter; tempo: one division at the tempo (2 s at most)",
	    .choices = delay_syncs },
	[DELAY_DIVISION] = { .name = "division", .unit = "", .kind = PARAM_CHOICE,
	    .min = 0, .max = TEMPO_N_DIVISIONS - 1, .def = TEMPO_DIVISION_QUARTER,
	    .help = "sync=tempo: the delay as a note value (1/8, 1/8d dotted, 1/8t triplet, ...)",
	    .choices = delay_divisions },
};

/* The delay the settings ask for, samples: the time parameter, or with
 * sync=tempo one division at the last tempo told, held to the longest. */
static double
delay_wanted(const struct delay *d)
{
	if (d->sync != DELAY_SYNC_TEMPO)
		return d->time_param;
	double t = d->division / d->per_frame;
	return t < (double)d->max_samples ? t : (double)d->max_samples;
}

/* Aim the smoothed time at what the settings ask for (at once before the
 * first block). */
static void
delay_retarget(struct delay *d)
{
	d->time_target = delay_wanted(d);
	if (!d->running)
		d->time = d->time_target;
}

/* Take the tempo for the coming block (sync=tempo follows it). */
static void
delay_tempo(void *self, const struct dsp_tempo *t)
{
	struct delay *d = self;

	if (t->per_frame > 0.0 && t->per_frame != d->per_frame) {
		d->per_frame = t->per_frame;
		if (d->sync == DELAY_SYNC_TEMPO)
			delay_retarget(d);
	}
}

/* Set parameter `index` (time in s, feedback and mix 0..1, damp in Hz);
 * values are reached smoothly once running. */
static void
delay_set_param(void *self, unsigned index, float value)
{
	struct delay *d = self;
	struct smoother *s;

	switch (index) {
	case DELAY_TIME:
		/* smoothed in double: float would stall short of the target */
		d->time_param = (double)value * d->rate;
		delay_retarget(d);
		return;
	case DELAY_SYNC:
		d->sync = (unsigned)value;
		delay_retarget(d);
		return;
	case DELAY_DIVISION:
		d->division = tempo_division_length((unsigned)value);
		delay_retarget(d);
		return;
	case DELAY_FEEDBACK:
		s = &d->feedback;
		value = clampf(value, 0.0f, 0.99f);
		break;
	case DELAY_MIX:
		s = &d->mix;
		value = clampf(value, 0.0f, 1.0f);
		break;
	case DELAY_DAMP:
		s = &d->damp;
		value = delay_damp_coef(d->rate, value);
		break;
	default:
		return;
	}
	smoother_set(s, value);
	if (!d->running)           /* before the first block: no glide */
		s->cur = value;
}

/* Prepare zeroed state of delay_size_for_rate(rate) bytes: defaults, an
 * empty (silent) line. */
static void
delay_init(void *self, float rate, uint32_t seed)
{
	struct delay *d = self;

	(void)seed;
	d->rate = rate;
	d->mask = delay_length(rate) - 1;
	d->w = 0;
	d->max_samples = DELAY_MAX_SECONDS * rate;
	d->lp = 0.0f;
	d->time = d->time_target = d->time_param =
	    (double)delay_params[DELAY_TIME].def * rate;
	d->sync = DELAY_SYNC_FREE;
	d->division = tempo_division_length(TEMPO_DIVISION_QUARTER);
	d->per_frame = tempo_default(rate).per_frame;
	d->time_coef = 1.0 - exp(-1.0 / ((double)DELAY_TIME_SMOOTH * rate));
	smoother_init(&d->feedback, delay_params[DELAY_FEEDBACK].def, rate,
	    SMOOTH_SECONDS);
	smoother_init(&d->mix, delay_params[DELAY_MIX].def, rate,
	    SMOOTH_SECONDS);
	smoother_init(&d->damp,
	    delay_damp_coef(rate, delay_params[DELAY_DAMP].def), rate,
	    SMOOTH_SECONDS);
}

/* The line read di + frac samples (di >= 3, frac in [0, 1)) back from the
 * write index, by 6-point Lagrange interpolation over the taps at delays
 * di-2 .. di+3. */
static inline float
delay_read(const struct delay *d, unsigned di, float frac)
{
	float t = 2.0f + frac;                  /* in [2, 3) tap units */
	unsigned base = d->w - (di - 2);        /* tap 0, delay di - 2 */
	float x[6];

	for (unsigned k = 0; k < 6; k++)
		x[k] = d->buf[(base - k) & d->mask];
	float d0 = t, d1 = t - 1.0f, d2 = t - 2.0f, d3 = t - 3.0f,
	    d4 = t - 4.0f, d5 = t - 5.0f;
	float p01 = d0 * d1, p012 = p01 * d2;
	float p45 = d4 * d5, p345 = d3 * p45;
	/* h_k = prod_{j != k} (t - j) / prod_{j != k} (k - j) */
	float h0 = d1 * d2 * p345 * (-1.0f / 120.0f);
	float h1 = d0 * d2 * p345 * (1.0f / 24.0f);
	float h2 = p01 * p345 * (-1.0f / 12.0f);
	float h3 = p012 * p45 * (1.0f / 12.0f);
	float h4 = p012 * d3 * d5 * (-1.0f / 24.0f);
	float h5 = p012 * d3 * d4 * (1.0f / 120.0f);
	return h0 * x[0] + h1 * x[1] + h2 * x[2] + h3 * x[3] + h4 * x[4] +
	    h5 * x[5];
}

/* Delay the input by the smoothed time plus the time cv; mix dry and wet. */
static void
delay_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct delay *d = self;
	const float *x = in[DELAY_IN], *tcv = in[DELAY_TIME_CV];
	float *y = out[DELAY_OUT];

	d->running = 1;
	for (unsigned i = 0; i < frames; i++) {
		double dt = d->time_target - d->time;
		if (fabs(dt) < 1e-6)
			d->time = d->time_target;
		else
			d->time += dt * d->time_coef;
		float fb = smoother_next(&d->feedback);
		float mix = smoother_next(&d->mix);
		float a = smoother_next(&d->damp);
		float xi = x != NULL ? x[i] : 0.0f;

		double del = d->time;
		if (tcv != NULL)
			del += (double)tcv[i] * d->rate;
		if (del < DELAY_MIN_SAMPLES)
			del = DELAY_MIN_SAMPLES;
		if (del > d->max_samples)
			del = d->max_samples;
		unsigned di = (unsigned)del;
		float wet = delay_read(d, di, (float)(del - di));
		d->lp += a * (wet - d->lp);
		d->buf[d->w & d->mask] = xi + fb * d->lp;
		d->w = (d->w + 1) & d->mask;
		y[i] = xi + mix * (wet - xi);
	}
}

static const struct port_desc delay_inputs[DELAY_N_IN] = {
	[DELAY_IN] = { "in", "audio in [-1, 1]" },
	[DELAY_TIME_CV] = { "time", "seconds added to the time parameter (modulation)" },
};

static const struct port_desc delay_outputs[DELAY_N_OUT] = {
	[DELAY_OUT] = { "out", "audio: dry/wet mix of the input and the delayed line" },
};

const struct module_type delay_module = {
	.name = "delay",
	.help = "interpolated delay (6-point Lagrange) with feedback and damping",
	.size = sizeof(struct delay),
	.size_for_rate = delay_size_for_rate,
	.inputs = delay_inputs,
	.n_inputs = DELAY_N_IN,
	.outputs = delay_outputs,
	.n_outputs = DELAY_N_OUT,
	.params = delay_params,
	.n_params = DELAY_N_P,
	.init = delay_init,
	.set_param = delay_set_param,
	.process = delay_process,
	.tempo = delay_tempo,
};
