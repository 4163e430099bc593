/*
 * dsp/limiter.c — a stereo-linked brickwall limiter: no output sample goes
 * beyond the ceiling, with an optional look-ahead that makes the gain come
 * down smoothly before a peak instead of at it.
 *
 * How the ceiling holds.  The output is the input delayed by D frames (the
 * look-ahead) times a gain G.  Each input position q gets a required gain
 * r[q] = min(1, ceiling / peak[q]).  With D >= 4 the peak of a position
 * also counts the waveform between it and its neighbours (three points
 * each side, from an 8-tap windowed sinc), so intersample peaks come down
 * too ("true peak", roughly); r is then known 4 frames after the sample
 * (a = 4), else at once (a = 0).  Over a window of W = D - a + 1
 * positions:
 *
 *   m[n] = min r over positions [n-D, n-a]     (a running minimum)
 *   e[n] = min(m[n], release step of e[n-1])   (slow recovery toward 1)
 *   G[n] = mean of e[n-W+1 .. n]               (a linear ramp, no corner)
 *
 * Every e in that mean has position n-D in its window, so each is at most
 * r[n-D] and so is their mean: G[n] * |x[n-D]| <= ceiling.  A final clamp
 * at the ceiling only catches float rounding (and the moment a lowered
 * ceiling takes over).  D > 0 delays the signal by D frames, which the
 * JACK client reports as latency (module_type.latency).
 */
#include <float.h>
#include <string.h>

#include "dsp_util.h"
#include "dynamics.h"
#include "module.h"

/* Frames of history kept: a power of two above the longest look-ahead
 * (20 ms at 192 kHz is 3840 frames) plus the detector's reach. */
#define LIM_CAP 4096u
#define LIM_MASK (LIM_CAP - 1u)
#define LIM_MAX_DELAY (LIM_CAP - 16u)
/* Intersample estimates: LIM_FRACTIONS points between two samples, each
 * from LIM_TAPS samples around them (a Hann-windowed sinc). */
#define LIM_TAPS 8u
#define LIM_FRACTIONS 3u

enum { LIM_LEFT, LIM_RIGHT, LIM_N_IN };
enum { LIM_OUT_LEFT, LIM_OUT_RIGHT, LIM_OUT_GAIN, LIM_N_OUT };
enum { LIM_CEILING, LIM_LOOKAHEAD, LIM_RELEASE, LIM_GAIN, LIM_N_P };

struct limiter {
	float rate;
	float ceiling;                 /* linear */
	float release_coef;
	struct glide_param gain_db;    /* input gain, dB */
	unsigned delay;                /* D, frames */
	unsigned detect_lag;           /* a: LIM_TAPS/2 with intersample
					  peaks (D >= a), else 0 */
	unsigned window;               /* W = D - a + 1 */
	uint32_t now;                  /* position of the next input frame */
	int running;                   /* process has run: glide changes */
	float last_gain;               /* G of the latest frame */
	float e_prev;
	double e_sum;                  /* sum of the last W values of e */
	/* the running minimum of r: a queue of positions whose r rises from
	 * front to back; the front is the minimum of the window */
	uint32_t q_head, q_tail;       /* counters; entries at [head, tail) */
	uint32_t q_pos[LIM_CAP];
	float q_r[LIM_CAP];
	float e_ring[LIM_CAP];         /* e by position, for the mean */
	float hist_l[LIM_CAP], hist_r[LIM_CAP];   /* input after gain */
	float between[LIM_CAP];        /* interval_peak(j) by position j */
	float taps[LIM_FRACTIONS][LIM_TAPS];      /* the interpolators */
};

static const struct param_desc limiter_params[LIM_N_P] = {
	[LIM_CEILING] = { .name = "ceiling", .unit = "dB", .kind = PARAM_REAL,
	    .min = -24.0f, .max = 0.0f, .def = -1.0f,
	    .help = "no output sample goes beyond this level, dBFS" },
	[LIM_LOOKAHEAD] = { .name = "lookahead", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 0.02f, .def = 0.0f,
	    .help = "delay that lets the gain ramp down before a peak (reported "
		"to JACK as latency); 0 = none, the gain drops at the peak" },
	[LIM_RELEASE] = { .name = "release", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.001f, .max = 2.0f, .def = 0.05f,
	    .help = "time constant of the gain's recovery toward unity" },
	[LIM_GAIN] = { .name = "gain", .unit = "dB", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 24.0f, .def = 0.0f,
	    .help = "gain before limiting: drive the signal into the ceiling" },
};

/* The look-ahead in frames for `seconds` at `rate`: the module's delay and
 * the latency it reports, one rounding for both. */
static unsigned
lookahead_frames(float seconds, float rate)
{
	float f = roundf(clampf(seconds, 0.0f, 1.0f) * rate);
	return f < (float)LIM_MAX_DELAY ? (unsigned)f : LIM_MAX_DELAY;
}

/* The ceiling as a float amplitude never above the exact 10^(dB/20), so
 * that "never beyond -1 dBFS" holds however the reader computes -1 dBFS. */
static float
ceiling_amp(float db)
{
	double exact = pow(10.0, db / 20.0);
	float c = (float)exact;
	return (double)c > exact ? nextafterf(c, 0.0f) : c;
}

/* The latency the module adds with these parameter values, frames. */
static unsigned
limiter_latency(const float *params, float rate)
{
	return lookahead_frames(params[LIM_LOOKAHEAD], rate);
}

/* The largest |x| of the waveform strictly between positions j and j+1,
 * both channels, estimated at 1/4, 1/2 and 3/4 of the way (8 taps, it
 * needs j-3 .. j+4). */
static inline float
interval_peak(const struct limiter *l, uint32_t j)
{
	float p = 0.0f;
	for (unsigned f = 0; f < LIM_FRACTIONS; f++) {
		float a = 0.0f, b = 0.0f;
		for (unsigned t = 0; t < LIM_TAPS; t++) {
			uint32_t k = (j + t - (LIM_TAPS / 2 - 1)) & LIM_MASK;
			a += l->taps[f][t] * l->hist_l[k];
			b += l->taps[f][t] * l->hist_r[k];
		}
		p = fmaxf(p, fmaxf(fabsf(a), fabsf(b)));
	}
	return p;
}

/* The required gain of position k: at most ceiling / peak, at most 1; the
 * peak counts the waveform on both sides of k when detecting true peaks. */
static inline float
required_gain(const struct limiter *l, uint32_t k)
{
	float p = fmaxf(fabsf(l->hist_l[k & LIM_MASK]), fabsf(l->hist_r[k & LIM_MASK]));
	if (l->detect_lag != 0)
		p = fmaxf(p, fmaxf(l->between[(k - 1) & LIM_MASK], l->between[k & LIM_MASK]));
	return p > l->ceiling ? l->ceiling / p : 1.0f;
}

/* Add position k's requirement to the running minimum. */
static inline void
queue_push(struct limiter *l, uint32_t k, float r)
{
	while (l->q_tail != l->q_head && l->q_r[(l->q_tail - 1) & LIM_MASK] >= r)
		l->q_tail--;
	l->q_pos[l->q_tail & LIM_MASK] = k;
	l->q_r[l->q_tail & LIM_MASK] = r;
	l->q_tail++;
}

/*
 * Take a look-ahead of `delay` frames from the next frame on, keeping the
 * ceiling: the requirements of the positions still to be played are
 * pushed from the history, and the gain continues from at most its current
 * value (the mean then starts from a flat run at or below every pushed
 * requirement, which is what the proof above needs).  Real-time safe.
 */
static void
limiter_configure(struct limiter *l, unsigned delay)
{
	l->delay = delay;
	l->detect_lag = delay >= LIM_TAPS / 2 ? LIM_TAPS / 2 : 0u;
	l->window = delay - l->detect_lag + 1;
	l->q_head = l->q_tail = 0;
	float g0 = l->last_gain;
	if (l->detect_lag != 0)     /* the estimates the pushes below read */
		for (uint32_t j = l->now - delay - 1; j != l->now - l->detect_lag; j++)
			l->between[j & LIM_MASK] = interval_peak(l, j);
	for (uint32_t k = l->now - delay; k != l->now - l->detect_lag; k++) {
		float r = required_gain(l, k);
		queue_push(l, k, r);
		g0 = fminf(g0, r);
	}
	for (uint32_t i = 1; i <= l->window; i++)
		l->e_ring[(l->now - i) & LIM_MASK] = g0;
	l->e_sum = (double)g0 * l->window;
	l->e_prev = g0;
	l->last_gain = g0;
}

/* Prepare zeroed state: defaults, silence behind, unity gain. */
static void
limiter_init(void *self, float rate, uint32_t seed)
{
	struct limiter *l = self;

	(void)seed;
	l->rate = rate;
	l->ceiling = ceiling_amp(limiter_params[LIM_CEILING].def);
	l->release_coef = follower_coef(limiter_params[LIM_RELEASE].def, rate);
	glide_param_init(&l->gain_db, limiter_params[LIM_GAIN].def, rate);
	for (unsigned f = 0; f < LIM_FRACTIONS; f++) {
		float frac = (float)(f + 1) / (LIM_FRACTIONS + 1), sum = 0.0f;
		for (unsigned t = 0; t < LIM_TAPS; t++) {
			/* distance from the point to tap t (taps j-3 .. j+4) */
			float d = frac - ((float)t - (LIM_TAPS / 2 - 1));
			float w = 0.5f + 0.5f * cosf((float)DSP_PI * d / (LIM_TAPS / 2));
			float sinc = sinf((float)DSP_PI * d) / ((float)DSP_PI * d);
			l->taps[f][t] = w * sinc;
			sum += l->taps[f][t];
		}
		for (unsigned t = 0; t < LIM_TAPS; t++)
			l->taps[f][t] /= sum;     /* unity at DC */
	}
	l->last_gain = 1.0f;
	limiter_configure(l, lookahead_frames(limiter_params[LIM_LOOKAHEAD].def, rate));
}

/* Set a parameter.  The input gain glides; a new look-ahead takes effect
 * at the next frame (the delay jumps: a short discontinuity, as any change
 * of latency makes); a new ceiling applies to what comes next. */
static void
limiter_set_param(void *self, unsigned index, float value)
{
	struct limiter *l = self;

	switch (index) {
	case LIM_CEILING:
		l->ceiling = ceiling_amp(value);
		break;
	case LIM_LOOKAHEAD: {
		unsigned d = lookahead_frames(value, l->rate);
		if (d != l->delay)
			limiter_configure(l, d);
		break;
	}
	case LIM_RELEASE:
		l->release_coef = follower_coef(value, l->rate);
		break;
	case LIM_GAIN:
		if (l->running)
			glide_param_set(&l->gain_db, value);
		else
			glide_param_init(&l->gain_db, value, l->rate);
		break;
	default:
		break;
	}
}

/* Limit both channels with one gain. */
static void
limiter_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct limiter *l = self;
	const float *xl = in[LIM_LEFT], *xr = in[LIM_RIGHT];
	float *yl = out[LIM_OUT_LEFT], *yr = out[LIM_OUT_RIGHT], *yg = out[LIM_OUT_GAIN];
	const float c = l->ceiling, rel = l->release_coef;
	const uint32_t window = l->window;
	const double inv_window = 1.0 / window;

	l->running = 1;
	if (xl == NULL)                /* mono on either input feeds both */
		xl = xr;
	if (xr == NULL)
		xr = xl;
	for (unsigned i = 0; i < frames; i++) {
		uint32_t n = l->now;
		float g_in = db_to_amp(glide_param_next(&l->gain_db));
		float a = xl != NULL ? xl[i] * g_in : 0.0f;
		float b = xr != NULL ? xr[i] * g_in : 0.0f;
		/* NaN and infinity (in, or made by the gain) count as silence */
		l->hist_l[n & LIM_MASK] = fabsf(a) <= FLT_MAX ? a : 0.0f;
		l->hist_r[n & LIM_MASK] = fabsf(b) <= FLT_MAX ? b : 0.0f;

		uint32_t q = n - l->detect_lag;
		if (l->detect_lag != 0)     /* the waveform after q is known now */
			l->between[q & LIM_MASK] = interval_peak(l, q);
		queue_push(l, q, required_gain(l, q));
		while ((int32_t)(q - l->q_pos[l->q_head & LIM_MASK]) >= (int32_t)window)
			l->q_head++;          /* left the window (wraps safely) */
		float m = l->q_r[l->q_head & LIM_MASK];

		float e = 1.0f - (1.0f - l->e_prev) * rel;
		e = fminf(e, m);
		l->e_prev = e;
		l->e_sum += (double)e - l->e_ring[(n - window) & LIM_MASK];
		l->e_ring[n & LIM_MASK] = e;
		float g = (float)(l->e_sum * inv_window);

		uint32_t k = (n - l->delay) & LIM_MASK;
		yl[i] = clampf(l->hist_l[k] * g, -c, c);
		yr[i] = clampf(l->hist_r[k] * g, -c, c);
		yg[i] = g;
		l->last_gain = g;
		l->now = n + 1;
	}
}

static const struct port_desc limiter_inputs[LIM_N_IN] = {
	[LIM_LEFT] = { "left", "audio in; alone, it feeds both outputs" },
	[LIM_RIGHT] = { "right", "audio in; alone, it feeds both outputs" },
};

static const struct port_desc limiter_outputs[LIM_N_OUT] = {
	[LIM_OUT_LEFT] = { "left", "audio: left, never beyond the ceiling" },
	[LIM_OUT_RIGHT] = { "right", "audio: right, never beyond the ceiling" },
	[LIM_OUT_GAIN] = { "gain", "the gain applied, a factor (0, 1]" },
};

const struct module_type limiter_module = {
	.name = "limiter",
	.help = "brickwall limiter: no sample beyond the ceiling; optional look-ahead",
	.size = sizeof(struct limiter),
	.inputs = limiter_inputs,
	.n_inputs = LIM_N_IN,
	.outputs = limiter_outputs,
	.n_outputs = LIM_N_OUT,
	.params = limiter_params,
	.n_params = LIM_N_P,
	.init = limiter_init,
	.set_param = limiter_set_param,
	.process = limiter_process,
	.latency = limiter_latency,
};
