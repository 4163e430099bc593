/*
 * dsp/ladder.c — Moog-style 4-pole lowpass ladder with zero-delay feedback.
 *
 * Four trapezoidal (TPT) one-pole lowpass stages, g = tan(pi fc / rate) so
 * the cutoff maps exactly, in a loop with feedback gain k = K_MAX * res
 * through a soft saturator.  The loop is solved implicitly every sample: no
 * unit delay, so with k = 4 the linear ladder rings exactly at the cutoff.
 * K_MAX is slightly above 4: at res = 1 the loop grows out of the built-in
 * -180 dB noise floor and settles where the saturator's describing-function
 * gain brings the loop gain back to 1, still at the cutoff (about 0.34 rms
 * at drive 0; with drive the stages limit it, about 0.058 / (2 drive) rms).
 *
 * Each saturator in the loop is linearised by its secant gain sat(v)/v at a
 * predicted v (its last two values continued as a sinusoid at the cutoff,
 * which is exact for the self-oscillation, so its pitch stays on the
 * cutoff); the linear loop is solved for y4, the feedback taken through the
 * true saturator at that y4, and the stages run forward:
 *   drive = 0: linear stages, saturator only in the feedback path; solve and
 *              feedback share one division (ladder_feedback), the only one
 *              per sample;
 *   drive > 0: every stage saturates its input (sat(c v)/c, c = 2 drive, so
 *              the small-signal response is unchanged), run forward through
 *              the true curves; this path runs at 4x the rate between IIR
 *              halfband resamplers (aliases of a 9 kHz sine at drive 1
 *              below -75 dBc), its saturators may be biased by asym for
 *              even harmonics, and a 5 Hz DC blocker cleans its output.
 * The feedback is a bounded saturator output, and each stage's state is kept
 * as its last output and last input, re-weighted with the current g every
 * sample (identical to the usual TPT state while g holds still), so an
 * abrupt cutoff drop cannot replay a half step taken at a high cutoff: the
 * filter stays bounded under any modulation.
 *
 * At res above the oscillation threshold a silent loop is seeded with its
 * own mode at the cutoff and grown to its steady level in some 25 ms, in
 * tune (see ladder_seed), instead of seconds of growth from the noise floor.
 *
 * comp scales the input by 1 + comp k, restoring the passband level the
 * feedback takes away without changing the self-oscillation level.
 * Cutoff is smoothed in octaves and its coefficients follow it (fast exp2
 * and tan, four samples at a time, ahead of the sample loop) only when the
 * pitch or mod input is connected or a parameter is gliding: exact every
 * sample where the modulation has audio-rate content, interpolated from
 * exact values every 8 samples where it is smooth (see ladder_coeffs).
 *
 * Voices side by side (process_lanes) run the sample loops on four or
 * eight voices at once, bit-identical: the linear path's kernel is
 * dsp/ladder_lanes.h, the driven path's dsp/ladder_drive_lanes.h, which
 * this file includes once per vector type.
 */
#include <math.h>
#include <string.h>

#include "coef_rate.h"
#include "dsp_util.h"
#include "lanes.h"
#include "module.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Highest cutoff, as a fraction of the sample rate. */
#define LADDER_MAX_CUTOFF 0.45f
/* Feedback gain at res = 1 (4 is the linear oscillation threshold). */
#define LADDER_K_MAX 4.2f
/* Saturator scale per unit of drive. */
#define LADDER_DRIVE_SCALE 2.0f
/* Amplitude of the internal noise floor that starts self-oscillation. */
#define LADDER_NOISE 1e-9f
/* Oversampling factor of the driven path (two 2x halfband stages). */
#define LADDER_OS 4
/* Saturator bias per unit of asym (even harmonics). */
#define LADDER_ASYM_BIAS 1.0f
/* Corner of the driven path's DC blocker, Hz. */
#define LADDER_DC_HZ 5.0
/* Self-oscillation start: seed amplitude, fastest growth or decay (nepers
 * per second), the distance of the loop's gain from 4 (relative) where
 * the growth starts to taper, and how long the start lasts, seconds. */
#define LADDER_SEED 1e-4f
#define LADDER_START_RATE 300.0f
#define LADDER_START_TAPER 0.02f
#define LADDER_START_MAX 0.25f
/* An input peak above this ends a start (or keeps one from starting). */
#define LADDER_START_QUIET 1e-4f
/* Describing-function table: entries per unit of amplitude, top amplitude. */
#define LADDER_DF_STEPS 16
#define LADDER_DF_TOP 8
#define LADDER_DF_N (LADDER_DF_STEPS * LADDER_DF_TOP + 1)

/*
 * The saturator is the [3/2] Pade approximant of tanh, clipped at |x| = 3
 * where it reaches +-1 with zero slope: sat(x) = x (27 + x^2) / (27 + 9 x^2).
 * This returns its secant gain sat(x)/x, in (0, 1], so sat(x) = x ratio(x)
 * everywhere (1/|x| beyond the clip); one division.
 */
static inline float
ladder_ratio(float x)
{
	float xc = clampf(x, -3.0f, 3.0f);
	float x2 = xc * xc;
	float m = fabsf(x) * (1.0f / 3.0f);
	return (27.0f + x2) / ((27.0f + 9.0f * x2) * (m > 1.0f ? m : 1.0f));
}

/*
 * The linearised loop, solved and fed back with one division.
 *
 * With its saturator replaced by the secant gain rf = sat(pred)/pred at the
 * predicted input `pred`, the loop y4 = t + a (u - in), u = in - k sat(y4)
 * (t: y4 with the feedback open, u = in; a: the ladder's gain from u to y4)
 * has the solution y0 = t / (1 + k a rf), and the feedback is the true
 * saturator at y0.  Written out, rf = n / q with n = 27 + p^2 and
 * q = 9 (3 + p^2) max(|pred| / 3, 1) (p = pred clipped to +-3, as in
 * ladder_ratio), so y0 = A / B with A = t q, B = q + k a n > 0; and for
 * |y0| <= 3, sat(y0) = y0 (27 + y0^2) / (27 + 9 y0^2)
 *                    = A (27 B^2 + A^2) / (B (27 B^2 + 9 A^2)),
 * while beyond the clip sat is +-1, which clipping A to +-3 B gives.  So the
 * three divisions in series on the sample's critical path (rf, y0 and
 * sat(y0)/y0) become one.  Returns k sat(y0); ka = k a >= 0.  Clamping
 * max(|pred| / 3, 1) to 1e4 (|pred| = 3e4 never happens in the bounded loop)
 * keeps B^3 far from float overflow whatever the input.
 */
static inline float
ladder_feedback(float t, float k, float ka, float pred)
{
	float p = clampf(pred, -3.0f, 3.0f);
	float p2 = p * p;
	float m = clampf(fabsf(pred) * (1.0f / 3.0f), 1.0f, 1e4f);
	float q = (9.0f * m) * (3.0f + p2);
	float b = q + ka * (27.0f + p2);
	float a = clampf(t * q, -3.0f * b, 3.0f * b);
	float a2 = a * a, b27 = 27.0f * b;
	return (k * a) * (b27 * b + a2) / (b27 * (b * b) + (9.0f * b) * a2);
}

/*
 * The asymmetric stage saturator: the curve above shifted by a bias b and
 * rescaled so that it still passes through 0 with slope 1,
 *   s(x) = (sat(x + b) - sat(b)) / sat'(b),
 * which adds even harmonics (and DC, which the output blocks).  Its secant
 * gain s(x)/x, written without the cancellation of the difference (u = x + b
 * within the clip):
 *   (sat(u) - sat(b)) / x = (729 - 216 u b + 27 (u^2 + b^2) + 9 u^2 b^2)
 *                           / ((27 + 9 u^2) (27 + 9 b^2)),
 *   sat'(b) = 9 (9 - b^2)^2 / (27 + 9 b^2)^2,
 * so s(x)/x = num(u) kb / (27 + 9 u^2), kb = (27 + 9 b^2) / (9 (9 - b^2)^2).
 * Beyond the clip (|u| > 3) u is clipped, which changes x to xe = uc - b:
 * the ratio is then the clipped one times xe / x.  One division.
 */
struct ladder_asym {
	float b, b2, kb;
};

static inline struct ladder_asym
ladder_asym_make(float b)
{
	struct ladder_asym a;
	float b2 = b * b, nb = 9.0f - b2;

	a.b = b;
	a.b2 = b2;
	a.kb = (27.0f + 9.0f * b2) / (9.0f * nb * nb);
	return a;
}

static inline float
ladder_ratio_asym(float x, const struct ladder_asym *a)
{
	float u = x + a->b;
	float uc = clampf(u, -3.0f, 3.0f);
	float u2 = uc * uc;
	int clipped = fabsf(u) > 3.0f;
	float xe = clipped ? uc - a->b : 1.0f;
	float xd = clipped ? x : 1.0f;
	float num = 729.0f - 216.0f * uc * a->b + 27.0f * (u2 + a->b2) +
	    9.0f * u2 * a->b2;
	return (num * a->kb * xe) / ((27.0f + 9.0f * u2) * xd);
}

/*
 * The driven path runs at LADDER_OS times the rate, between two cascaded
 * 2x polyphase IIR halfband filters (each two chains of first-order
 * allpasses in z^-2, elliptic, designed offline for this module): the
 * first stage passes 0-20 kHz and stops 28-48 kHz (at 48 kHz in; 96 dB),
 * the second passes 0-28 kHz and stops 68-96 kHz (103 dB).  Chain 0 takes
 * the even coefficients, chain 1 the odd ones.  Their delay is a few
 * samples, not the tens of a linear-phase FIR.
 */
#define LADDER_HB1_N 6
#define LADDER_HB2_N 4
static const float ladder_hb1[LADDER_HB1_N] = {
	0.044193381833f, 0.164226839586f, 0.330806761034f,
	0.515158452100f, 0.702112023866f, 0.894914884466f,
};
static const float ladder_hb2[LADDER_HB2_N] = {
	0.048202724835f, 0.189288973434f, 0.420590421737f, 0.763230495361f,
};

/* One halfband's allpass memories: last input and output per section,
 * plus the decimator's held odd sample. */
struct ladder_hb {
	float x1[LADDER_HB1_N], y1[LADDER_HB1_N];
	float held;
};

/* An allpass chain (sections c[first], c[first + 2], ... below n) on v. */
static inline float
ladder_hb_chain(struct ladder_hb *h, const float *c, unsigned n,
    unsigned first, float v)
{
	for (unsigned s = first; s < n; s += 2) {
		float y = c[s] * (v - h->y1[s]) + h->x1[s];
		h->x1[s] = v;
		h->y1[s] = y;
		v = y;
	}
	return v;
}

/* 2x up: x gives out[0], out[1]. */
static inline void
ladder_hb_up(struct ladder_hb *h, const float *c, unsigned n, float x,
    float *out)
{
	out[0] = ladder_hb_chain(h, c, n, 0, x);
	out[1] = ladder_hb_chain(h, c, n, 1, x);
}

/* 2x down: in[0], in[1] give one sample. */
static inline float
ladder_hb_down(struct ladder_hb *h, const float *c, unsigned n,
    const float *in)
{
	float a = ladder_hb_chain(h, c, n, 0, in[0]);
	float b = ladder_hb_chain(h, c, n, 1, h->held);
	h->held = in[1];
	return 0.5f * (a + b);
}

/* Settle a halfband on the constant v (each allpass passes DC at gain 1). */
static void
ladder_hb_prime(struct ladder_hb *h, float v)
{
	for (unsigned s = 0; s < LADDER_HB1_N; s++)
		h->x1[s] = h->y1[s] = v;
	h->held = v;
}

/*
 * The saturator's describing function: the gain it gives the fundamental
 * of a sine of amplitude a, (2 / (pi a)) int_0^pi sat(a sin t) sin t dt,
 * tabulated at init for the self-oscillation start (it tells how far the
 * loop is from the level where its gain is exactly 4).
 */
static float
ladder_sat(float x)
{
	return x * ladder_ratio(x);
}

static void
ladder_df_fill(float *df)
{
	enum { POINTS = 64 };

	df[0] = 1.0f;
	for (unsigned i = 1; i < LADDER_DF_N; i++) {
		double a = (double)i / LADDER_DF_STEPS, sum = 0;
		for (unsigned j = 0; j < POINTS; j++) {   /* midpoint, 0..pi/2 */
			double t = (j + 0.5) * (DSP_PI / 2) / POINTS;
			sum += ladder_sat((float)(a * sin(t))) * sin(t);
		}
		df[i] = (float)(4.0 / (DSP_PI * a) * sum * (DSP_PI / 2) /
		    POINTS);
	}
}

/* The describing function at amplitude^2 a2, scaled by s (s^2 a2 is the
 * saturator's input amplitude^2). */
static inline float
ladder_df(const float *df, float a2, float s)
{
	float a = s * sqrtf(a2 > 0.0f ? a2 : 0.0f) * LADDER_DF_STEPS;
	float top = (float)(LADDER_DF_N - 1);

	if (a >= top)            /* towards a hard clip: falls as 1 / a */
		return df[LADDER_DF_N - 1] * top / a;
	unsigned i = (unsigned)a;
	float fr = a - (float)i;
	return df[i] + fr * (df[i + 1] - df[i]);
}

/*
 * The amplitude^2 of a sine at the cutoff whose last two samples are v1, v0,
 * from the one-pole coefficients G = g / (1 + g), H = 1 / (1 + g):
 *   A^2 = (v1 - v0)^2 S^2 / (4 G^2 H^2) + S v1 v0 / H^2,  S = G^2 + H^2,
 * free of the cancellation 2 - 2 cos(w) suffers at low cutoffs.  `inv` is
 * 1 / (4 G^2 H^2), shared by the callers of one sample.
 */
static inline float
ladder_amp2(float v1, float v0, float S, float inv, float invH2)
{
	float d = v1 - v0;
	return d * d * S * S * inv + S * v1 * v0 * invH2;
}

/*
 * Per-sample cutoff coefficients, computed for a chunk of samples ahead of
 * the sample loop so that their latency (exp2, tan and two divisions) never
 * sits on the loop's serial path, and four lanes at a time with GCC vector
 * extensions (SSE2 on any x86-64; other targets get scalar code).
 */
#define LADDER_CHUNK 64         /* samples per chunk, a multiple of 4 */
/*
 * Control-rate coefficients (ladder_coeffs): samples per segment, and the
 * tolerance of the straightness that lets a segment interpolate them, per
 * unit of the loop's distance from oscillation, 4 - k (octaves for the
 * modulation; relative for the coefficients).  Chosen so that the output
 * differs from the per-sample one by less than -90 dB of its RMS on
 * envelope and LFO sweeps at any res (tests/coef_rate_test.c measures it:
 * -100 dB at worst).
 */
#define LADDER_SEG 16
#define LADDER_SEG_TOL 5e-6f

typedef float ladder_v4 __attribute__((vector_size(16)));
typedef int32_t ladder_v4i __attribute__((vector_size(16)));

/* 2^x for x >= 0: fast_exp2f (dsp_util.h) on four lanes.  For x >= 0 the
 * floor is a truncating conversion. */
static inline ladder_v4
ladder_exp2_v4(ladder_v4 x)
{
	ladder_v4i il = __builtin_convertvector(x, ladder_v4i);
	ladder_v4 fr = x - __builtin_convertvector(il, ladder_v4);  /* [0, 1) */
	ladder_v4 p = 1.0f + fr * (0.6931470282f + fr * (0.240229401f +
	    fr * (0.05548531785f + fr * (0.009674557619f +
	    fr * (0.001248275028f + fr * 0.0002154104459f)))));
	return (ladder_v4)((ladder_v4i)p + (il << 23));   /* p 2^il */
}

enum { LADDER_IN_IN, LADDER_IN_PITCH, LADDER_IN_MOD, LADDER_N_IN };
enum { LADDER_OUT_OUT, LADDER_N_OUT };
enum {
	LADDER_P_CUTOFF, LADDER_P_RES, LADDER_P_DRIVE, LADDER_P_DEPTH,
	LADDER_P_COMP, LADDER_P_ASYM, LADDER_N_P
};

struct ladder {
	float rate;                 /* Hz */
	float pi_over_rate;         /* radians per Hz */
	float oct_lo, oct_hi;       /* cutoff limits, log2(Hz) */
	struct glide_param oct;    /* cutoff, log2(Hz) */
	struct glide_param k;      /* feedback gain, 0 .. LADDER_K_MAX */
	struct glide_param c;      /* stage saturator scale, 0 = linear */
	struct glide_param comp;   /* passband compensation, 0 .. 1 */
	float depth;                /* octaves per unit of mod */
	float y[4];                 /* stage outputs at the last sample */
	float w[4];                 /* stage inputs (saturated), last sample */
	float ya, yb;               /* last two outputs */
	float va[4], vb[4];         /* last two stage inputs (drive > 0) */
	uint32_t noise;             /* LCG state of the noise floor */
	struct glide_param asym;   /* saturator bias, -BIAS .. BIAS */
	/* the driven path's resampling: 2x up twice, 2x down twice */
	struct ladder_hb up1, up2, down2, down1;
	int os_live;                /* the driven path ran the last block */
	double dc;                  /* DC blocker's running mean (driven) */
	double dc_coef;             /* its fraction per sample */
	/* self-oscillation start: growing a seeded sine, samples left */
	int starting;
	unsigned start_left;
	float start_grow;           /* state scale per sample, linear path */
	float start_grow_os;        /* per oversampled sample */
	float df[LADDER_DF_N];      /* describing function, see ladder_df */
	/* every coefficient per sample, never at the control rate (tests:
	 * ladder_coef_per_sample) */
	int coef_per_sample;
};

static const struct port_desc ladder_inputs[LADDER_N_IN] = {
	[LADDER_IN_IN] = { "in", "audio in, [-1, 1]" },
	[LADDER_IN_PITCH] = { "pitch", "cutoff offset, octaves (key tracking)" },
	[LADDER_IN_MOD] = { "mod", "cutoff modulation, scaled by depth (octaves per unit)" },
};

static const struct port_desc ladder_outputs[LADDER_N_OUT] = {
	[LADDER_OUT_OUT] = { "out", "lowpassed audio, 24 dB/oct" },
};

static const struct param_desc ladder_params[LADDER_N_P] = {
	[LADDER_P_CUTOFF] = { "cutoff", "Hz", PARAM_REAL, 20, 20000, 1000,
	    "cutoff frequency (self-oscillation pitch at res 1)", NULL },
	[LADDER_P_RES] = { "res", "", PARAM_REAL, 0, 1, 0,
	    "resonance; self-oscillates from about 0.95, steadily at 1 (from "
	    "silence in about 25 ms)", NULL },
	[LADDER_P_DRIVE] = { "drive", "", PARAM_REAL, 0, 1, 0,
	    "stage saturation, 4x oversampled, DC blocked; 0 keeps the stages "
	    "linear", NULL },
	[LADDER_P_DEPTH] = { "depth", "oct", PARAM_REAL, -8, 8, 4,
	    "octaves of cutoff per unit of the mod input", NULL },
	[LADDER_P_COMP] = { "comp", "", PARAM_REAL, 0, 1, 0,
	    "passband gain compensation for resonance", NULL },
	[LADDER_P_ASYM] = { "asym", "", PARAM_REAL, -1, 1, 0,
	    "drive asymmetry, even harmonics (0: symmetric; no effect at drive "
	    "0)", NULL },
};

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
ladder_init(void *self, float rate, uint32_t seed)
{
	struct ladder *f = self;

	f->rate = rate;
	f->pi_over_rate = (float)(DSP_PI / rate);
	f->oct_lo = 0.0f;                           /* 1 Hz */
	f->oct_hi = log2f(LADDER_MAX_CUTOFF * rate);
	glide_param_init(&f->oct, log2f(ladder_params[LADDER_P_CUTOFF].def),
	    rate);
	glide_param_init(&f->k, LADDER_K_MAX * ladder_params[LADDER_P_RES].def,
	    rate);
	glide_param_init(&f->c,
	    LADDER_DRIVE_SCALE * ladder_params[LADDER_P_DRIVE].def, rate);
	glide_param_init(&f->comp, ladder_params[LADDER_P_COMP].def, rate);
	f->depth = ladder_params[LADDER_P_DEPTH].def;
	f->noise = seed * 2654435761u + 12345u;
	glide_param_init(&f->asym,
	    LADDER_ASYM_BIAS * ladder_params[LADDER_P_ASYM].def, rate);
	f->dc_coef = 1.0 - exp(-2.0 * DSP_PI * LADDER_DC_HZ / rate);
	f->start_grow = expf(LADDER_START_RATE / rate);
	f->start_grow_os = expf(LADDER_START_RATE / (LADDER_OS * rate));
	ladder_df_fill(f->df);
}

/* Tests: `on` makes the ladder whose state is `self` compute every
 * coefficient per sample (coef_rate.h). */
void
ladder_coef_per_sample(void *self, int on)
{
	struct ladder *f = self;

	f->coef_per_sample = on;
}

/* Set parameter `index` (already clamped to its range). */
static void
ladder_set_param(void *self, unsigned index, float value)
{
	struct ladder *f = self;

	switch (index) {
	case LADDER_P_CUTOFF:
		glide_param_set(&f->oct, log2f(value));
		break;
	case LADDER_P_RES:
		glide_param_set(&f->k, LADDER_K_MAX * value);
		break;
	case LADDER_P_DRIVE:
		glide_param_set(&f->c, LADDER_DRIVE_SCALE * value);
		break;
	case LADDER_P_DEPTH:
		f->depth = value;
		break;
	case LADDER_P_COMP:
		glide_param_set(&f->comp, value);
		break;
	case LADDER_P_ASYM:
		glide_param_set(&f->asym, LADDER_ASYM_BIAS * value);
		break;
	}
}

/* v in all four lanes. */
static inline ladder_v4
ladder_splat(float v)
{
	ladder_v4 r = { v, v, v, v };
	return r;
}

/* Lane-wise clampf: x clamped to [lo, hi], NaN gives lo. */
static inline ladder_v4
ladder_clamp_v4(ladder_v4 x, ladder_v4 lo, ladder_v4 hi)
{
	ladder_v4i above = x > lo, below = x < hi;   /* all-ones lanes */
	ladder_v4i r = (below & (ladder_v4i)x) | (~below & (ladder_v4i)hi);
	return (ladder_v4)((above & r) | (~above & (ladder_v4i)lo));
}

/* Four floats from p[0..avail), zero-padded when avail < 4. */
static inline ladder_v4
ladder_load4(const float *p, unsigned avail)
{
	ladder_v4 v = { 0.0f, 0.0f, 0.0f, 0.0f };
	if (avail >= 4)
		memcpy(&v, p, sizeof v);
	else
		for (unsigned j = 0; j < avail; j++)
			v[j] = p[j];
	return v;
}

/*
 * The exact coefficients of four cutoffs o (octaves, clamped) at
 * pi_over_rate radians per Hz:
 *   G = g / (1 + g),  H = 1 / (1 + g),
 *   C2 = 2 cos(w) = 2 (1 - g^2) / (1 + g^2),
 * g = tan(w / 2), w = 2 pi fc / rate.  tan(x), x in [0, 1.42] radians, is
 * the [7/6] Pade approximant num / den (relative error 4e-9, below float
 * rounding), so G = num / (num + den), H = den / (num + den) and
 * C2 = 2 (den - num) (den + num) / (den^2 + num^2).
 */
static inline void
ladder_exact_v4(ladder_v4 o, float pi_over_rate, ladder_v4 *G, ladder_v4 *H,
    ladder_v4 *C2)
{
	ladder_v4 x = pi_over_rate * ladder_exp2_v4(o);
	ladder_v4 x2 = x * x;
	ladder_v4 num = x * (135135.0f + x2 * (-17325.0f +
	    x2 * (378.0f - x2)));
	ladder_v4 den = 135135.0f + x2 * (-62370.0f +
	    x2 * (3150.0f - 28.0f * x2));
	ladder_v4 inv = 1.0f / (num + den);

	*G = num * inv;
	*H = den * inv;
	*C2 = 2.0f * (den - num) * (den + num) / (den * den + num * num);
}

/* The exact coefficients of samples from..to (inclusive) of the octaves o,
 * four at a time. */
static void
ladder_exact_run(const float *o, unsigned from, unsigned to,
    float pi_over_rate, float *G, float *H, float *C2)
{
	for (unsigned i = from; i <= to; i += 4) {
		unsigned k = to + 1 - i < 4 ? to + 1 - i : 4;
		ladder_v4 g, h, c2;
		ladder_exact_v4(ladder_load4(&o[i], k), pi_over_rate, &g, &h,
		    &c2);
		if (k == 4) {
			memcpy(&G[i], &g, sizeof g);
			memcpy(&H[i], &h, sizeof h);
			memcpy(&C2[i], &c2, sizeof c2);
			continue;
		}
		for (unsigned j = 0; j < k; j++) {
			G[i + j] = g[j];
			H[i + j] = h[j];
			C2[i + j] = c2[j];
		}
	}
}

/* A segment's steps from its start, four at a time. */
static const ladder_v4 ladder_seg_steps[LADDER_SEG / 4] = {
	{ 0, 1, 2, 3 }, { 4, 5, 6, 7 }, { 8, 9, 10, 11 }, { 12, 13, 14, 15 },
};
_Static_assert(LADDER_SEG == 16, "ladder_seg_steps lists 16 steps");

/* Lane-wise fabsf. */
static inline ladder_v4
ladder_abs_v4(ladder_v4 x)
{
	return (ladder_v4)((ladder_v4i)x & 0x7fffffff);
}

/*
 * Whether the octaves o[a..b] lie within tol of their chord (the
 * modulation is straight over the segment, so its exact coefficients at
 * the ends and the middle tell how straight theirs are).  Every sample is
 * looked at: a modulation at a multiple of the segment's rate would look
 * still at its ends and middle.
 */
static inline int
ladder_seg_straight(const float *o, unsigned a, unsigned b, float inv,
    float tol)
{
	float d = o[b] - o[a], len = (float)(b - a);
	ladder_v4i ok = { -1, -1, -1, -1 };

	/* four at a time from a (whose distance is 0), steps from b on left
	 * out */
	for (unsigned j = a, q = 0; j < b; j += 4, q++) {
		ladder_v4 v, line = o[a] + d * (ladder_seg_steps[q] * inv);
		memcpy(&v, &o[j], sizeof v);
		ok &= (ladder_abs_v4(v - line) <= tol) |
		    (ladder_seg_steps[q] >= len);
	}
	return (ok[0] & ok[1]) & (ok[2] & ok[3]);
}

/* Samples a..b of G, H and C2 interpolated along their chords from a to
 * b (four at a time: up to b + 2 written, b kept). */
static inline void
ladder_seg_lerp(float *G, float *H, float *C2, unsigned a, unsigned b,
    float inv)
{
	float ga = G[a], gb = G[b], ha = H[a], hb = H[b];
	float ca = C2[a], cb = C2[b];

	for (unsigned j = a, q = 0; j < b; j += 4, q++) {
		ladder_v4 t = ladder_seg_steps[q] * inv;
		ladder_v4 g = ga + (gb - ga) * t, h = ha + (hb - ha) * t;
		ladder_v4 c2 = ca + (cb - ca) * t;
		memcpy(&G[j], &g, sizeof g);
		memcpy(&H[j], &h, sizeof h);
		memcpy(&C2[j], &c2, sizeof c2);
	}
	G[b] = gb;
	H[b] = hb;
	C2[b] = cb;
}

/* Whether x, the exact value at the middle of a segment (t of the way
 * along), lies within tol of the chord from xa to xb. */
static inline int
ladder_seg_near(float xa, float x, float xb, float t, float tol)
{
	return fabsf(x - (xa + (xb - xa) * t)) <= tol;
}

/*
 * Coefficients of the next n <= LADDER_CHUNK samples (ladder_exact_v4) of
 * the cutoff in octaves: the smoothed parameter + pitch + depth mod,
 * clamped.  pitch and mod may be NULL (unconnected).
 *
 * At a control rate where the modulation is smooth: the chunk is cut into
 * segments of LADDER_SEG samples (the last one shorter), each sharing its
 * end with the next.  Where a segment's octaves are straight
 * (ladder_seg_straight) and the exact coefficients at its middle lie near
 * the chord of its ends' (ladder_seg_near; relative, C2 relative to 2),
 * the samples between are interpolated along that chord; anywhere else,
 * and always when f->coef_per_sample is set, every sample is exact.  The
 * tolerance is LADDER_SEG_TOL times 4 - k (k where the chunk starts): a
 * loop near oscillation rings for long and keeps a cutoff error as phase,
 * so the closer it is the straighter a segment must be, and at k >= 4
 * (self-oscillation) nothing is interpolated.  An audio-rate modulation
 * is never straight over 16 samples: its coefficients stay exact.  The
 * segments start at the chunk's start, so the choice depends on where
 * blocks begin, but only within the tolerance.  G, H and C2 hold n
 * rounded up to a multiple of 4.
 */
static void
ladder_coeffs(struct ladder *f, const float *pitch, const float *mod,
    unsigned n, float pi_over_rate, float *G, float *H, float *C2)
{
	float glide[LADDER_CHUNK], o[LADDER_CHUNK];
	int moving = smoother_moving(&f->oct.d);
	ladder_v4 lo = ladder_splat(f->oct_lo), hi = ladder_splat(f->oct_hi);
	ladder_v4 depth = ladder_splat(f->depth);
	float tol = LADDER_SEG_TOL * (4.0f - (f->k.base + f->k.d.cur));

	if (moving)     /* the cutoff parameter is gliding: serial, rare */
		for (unsigned i = 0; i < n; i++)
			glide[i] = glide_param_next(&f->oct);
	for (unsigned i = 0; i < n; i += 4) {
		ladder_v4 v = ladder_splat(f->oct.base);
		if (moving)
			v = ladder_load4(&glide[i], n - i);
		if (pitch != NULL)
			v += ladder_load4(&pitch[i], n - i);
		if (mod != NULL)
			v += depth * ladder_load4(&mod[i], n - i);
		v = ladder_clamp_v4(v, lo, hi);    /* a NaN gives the lowest */
		memcpy(&o[i], &v, sizeof v);
	}

	ladder_exact_run(o, 0, 0, pi_over_rate, G, H, C2);
	for (unsigned a = 0; a + 1 < n; ) {
		unsigned len = n - 1 - a < LADDER_SEG ? n - 1 - a : LADDER_SEG;
		unsigned b = a + len, mid = a + len / 2;
		float inv = 1.0f / (float)len;

		if (f->coef_per_sample ||
		    !ladder_seg_straight(o, a, b, inv, tol)) {
			ladder_exact_run(o, a + 1, b, pi_over_rate, G, H, C2);
			a = b;
			continue;
		}
		ladder_v4 ends = { o[b], o[mid], o[b], o[b] }, g, h, c2;
		ladder_exact_v4(ends, pi_over_rate, &g, &h, &c2);
		float tm = (float)(mid - a) * inv;
		G[b] = g[0];
		H[b] = h[0];
		C2[b] = c2[0];
		if (ladder_seg_near(G[a], g[1], G[b], tm, tol * g[1]) &&
		    ladder_seg_near(H[a], h[1], H[b], tm, tol * h[1]) &&
		    ladder_seg_near(C2[a], c2[1], C2[b], tm, tol * 2.0f)) {
			ladder_seg_lerp(G, H, C2, a, b, inv);
		} else if (b > a + 1) {
			ladder_exact_run(o, a + 1, b - 1, pi_over_rate, G, H,
			    C2);
		}
		a = b;
	}
}

/*
 * The self-oscillation start.  From silence the loop's gain excess (k = 4.2
 * against 4) would take seconds to grow the -180 dB noise floor into an
 * oscillation, sharp all the while (a small-signal loop at k > 4 rings above
 * the cutoff).  So when res asks for oscillation and the loop is silent,
 * the state is seeded with the loop's own mode at the cutoff (a sine at
 * LADDER_SEED, each stage 45 degrees ahead of the next, as the exact
 * one-pole response at the cutoff gives).  For LADDER_START_MAX seconds
 * after, k is set to make the loop's gain exactly 4, so the mode stays on
 * the cutoff, and the whole state is scaled towards the level where res's
 * own k (its target, so a res still gliding up changes nothing) gives a
 * gain of 4: the gain is estimated from the saturators' describing
 * functions at their amplitudes, and the state grows (or shrinks) by up
 * to LADDER_START_RATE nepers per second, tapered near the level.  Then
 * the loop's own dynamics carry on from its steady state; res lowered
 * below the oscillation threshold ends the start at once.
 * `w` is the cutoff in radians per sample of the path that runs.
 */
static void
ladder_seed(struct ladder *f, double w)
{
	double a = LADDER_SEED, r2 = sqrt(2.0);

	/* phase 0 of the output's sine at the last sample */
	f->ya = 0.0f;
	f->yb = (float)(-a * sin(w));
	f->y[3] = 0.0f;
	f->y[2] = (float)a;
	f->y[1] = (float)(2 * a);
	f->y[0] = (float)(2 * a);
	f->w[0] = f->va[0] = 0.0f;
	f->w[1] = f->va[1] = f->y[0];
	f->w[2] = f->va[2] = f->y[1];
	f->w[3] = f->va[3] = f->y[2];
	f->vb[0] = (float)(4 * a * sin(w));
	f->vb[1] = (float)(2 * r2 * a * sin(0.75 * DSP_PI - w));
	f->vb[2] = (float)(2 * a * cos(w));
	f->vb[3] = (float)(r2 * a * sin(0.25 * DSP_PI - w));
	f->starting = 1;
	f->start_left = (unsigned)(LADDER_START_MAX * f->rate);
}

/*
 * The loop's gain at the cutoff over 4 during a start: res's k times the
 * describing functions of the feedback saturator (at the output's
 * amplitude A4, from its last two samples ya, yb) and, driven, of each
 * stage's (scaled by c).  The stages' input amplitudes come from A4
 * backwards, not from their own samples, whose harmonics the two-sample
 * estimate would overweight: a stage at the cutoff gives its input's
 * amplitude times DF / sqrt(2), so its input's amplitude a solves
 * a = sqrt(2) A_out / DF(c a), two fixed-point steps from DF = 1.  G, H:
 * this sample's one-pole coefficients.
 */
static inline float
ladder_loop_gain(const struct ladder *f, float G, float H, float c,
    float ya, float yb, int driven)
{
	float S = G * G + H * H, inv = 1.0f / (4.0f * G * G * H * H);
	float a2 = ladder_amp2(ya, yb, S, inv, 1.0f / (H * H));
	float l = f->k.base * ladder_df(f->df, a2, 1.0f);

	if (driven) {
		float out = sqrtf(a2 > 0.0f ? a2 : 0.0f);
		for (int i = 0; i < 4; i++) {
			float a = (float)M_SQRT2 * out, df = 1.0f;
			for (int it = 0; it < 2; it++) {
				df = ladder_df(f->df, a * a, c);
				a = (float)M_SQRT2 * out / df;
			}
			df = ladder_df(f->df, a * a, c);
			l *= df;
			out = a;
		}
	}
	l *= 0.25f;
	/* beyond any steady level (the estimate is off): never grow */
	return a2 > 1.0f && l > 1.0f ? 1.0f : l;
}

/* The state's scale per sample during a start, `grow` at full rate (1 /
 * grow shrinking): tapered as the loop's gain over 4, l, nears 1. */
static inline float
ladder_start_scale(float grow, float l)
{
	float t = (l - 1.0f) * (1.0f / LADDER_START_TAPER);
	return 1.0f + (grow - 1.0f) * clampf(t, -1.0f, 1.0f);
}

/* The coefficients of a settled cutoff, at `os` times the sample rate:
 * exact prewarping, once per block. */
static void
ladder_settled_coeffs(const struct ladder *f, unsigned os, float *G, float *H,
    float *c2)
{
	double g = tan(DSP_PI * exp2((double)f->oct.base) /
	    ((double)os * (double)f->rate));
	*G = (float)(g / (1.0 + g));
	*H = (float)(1.0 / (1.0 + g));
	*c2 = (float)(2.0 * (1.0 - g * g) / (1.0 + g * g));
}

/* One sample of a start from silence, given the loop's gain over 4, l:
 * while *starting, the feedback *kk makes that gain exactly 4 and the
 * state grows by *grow; the start ends when its samples run out or k is
 * 4 or below. */
static inline void
ladder_start_step(const struct ladder *f, float l, float start_grow,
    int *starting, unsigned *start_left, float *kk, float *grow)
{
	if (*start_left == 0 || f->k.base <= 4.0f) {
		*starting = 0;
	} else {
		/* an estimate thrown off (a cutoff moving fast) never makes
		 * k wild */
		*kk = f->k.base / clampf(l, 0.8f, 1.25f);
		*grow = ladder_start_scale(start_grow, l);
	}
	*start_left -= *start_left > 0;
}

/*
 * The linear sample loop (drive 0), specialised by the constant flag
 * `varying` (coefficients per sample); x may be NULL (silence).
 *
 * The feedback saturator is linearised by its secant gain sat(v)/v at a
 * predicted v: its last two values continued as a sinusoid at the cutoff,
 * c2 v[n-1] - v[n-2], exact for the self-oscillation, so its pitch stays at
 * the cutoff.
 *
 * Stage i's trapezoidal state, times 1 / (1 + g), is
 * h_i = H y_i + G (w_i - y_i) with this sample's g (y_i, w_i: its last
 * output and input), and the stage gives y_i = G v_i + h_i for its input
 * v_i.  That is the usual TPT state while g holds still, but when the
 * cutoff drops abruptly it cannot replay a half step taken at a high cutoff
 * (which overshoots several times over).
 */
static inline __attribute__((always_inline)) void
ladder_run(struct ladder *f, const float *x, const float *pitch,
    const float *mod, float *y, unsigned n, int varying)
{
	float y1 = f->y[0], y2 = f->y[1], y3 = f->y[2], y4 = f->y[3];
	float w1 = f->w[0], w2 = f->w[1], w3 = f->w[2], w4 = f->w[3];
	float ya = f->ya, yb = f->yb;
	uint32_t noise = f->noise;
	float G = 0, H = 0, c2 = 0, k = f->k.base;
	float gain = 1.0f + f->comp.base * k;
	int gliding = smoother_moving(&f->k.d) || smoother_moving(&f->c.d) ||
	    smoother_moving(&f->comp.d);
	int starting = f->starting;
	unsigned start_left = f->start_left;
	float start_grow = f->start_grow;
	/* per-sample coefficients of the current chunk (varying) */
	float Gv[LADDER_CHUNK], Hv[LADDER_CHUNK], C2v[LADDER_CHUNK];

	if (gliding) {    /* this block starts from where they are now */
		k += f->k.d.cur;
		gain = 1.0f + (f->comp.base + f->comp.d.cur) * k;
	}

	if (!varying)
		ladder_settled_coeffs(f, 1, &G, &H, &c2);
	for (unsigned done = 0; done < n; done += LADDER_CHUNK) {
		unsigned m = n - done < LADDER_CHUNK ? n - done : LADDER_CHUNK;

		if (varying)
			ladder_coeffs(f, pitch != NULL ? pitch + done : NULL,
			    mod != NULL ? mod + done : NULL, m,
			    f->pi_over_rate, Gv, Hv, C2v);
		for (unsigned j = 0; j < m; j++) {
			unsigned i = done + j;

			if (varying) {
				G = Gv[j];
				H = Hv[j];
				c2 = C2v[j];
				if (gliding) {
					k = glide_param_next(&f->k);
					(void)glide_param_next(&f->c);
					gain = 1.0f +
					    glide_param_next(&f->comp) * k;
				}
			}
			noise = noise * 1664525u + 1013904223u;
			float in = (float)(int32_t)noise *
			    (LADDER_NOISE / 2147483648.0f);
			if (x != NULL)
				in += gain * x[i];

			/* a start: the loop's gain made exactly 4 */
			float kk = k, grow = 1.0f;
			if (starting)
				ladder_start_step(f, ladder_loop_gain(f, G, H, 0,
				    ya, yb, 0), start_grow, &starting,
				    &start_left, &kk, &grow);

			/* the feedback saturator's predicted input */
			float pred = c2 * ya - yb;
			/* the stages' states: y_i = G v_i + h_i */
			float HG = H - G;
			float h1 = HG * y1 + G * w1, h2 = HG * y2 + G * w2;
			float h3 = HG * y3 + G * w3, h4 = HG * y4 + G * w4;
			/*
			 * With the loop open (u = in), stage i would give
			 * t_i = G^i in + G^(i-1) h_1 + ... + h_i, summed as
			 * a tree so that the products run in parallel; the
			 * feedback k sat(y4) then takes G^i times itself off.
			 */
			float G2 = G * G, G3 = G2 * G, G4 = G2 * G2;
			float t1 = G * in + h1;
			float t2 = (G2 * in + G * h1) + h2;
			float t3 = (G3 * in + G2 * h1) + (G * h2 + h3);
			float t4 = (G3 * h1 + G2 * h2) +
			    (G * h3 + (G4 * in + h4));
			float kfb = ladder_feedback(t4, kk, kk * G4, pred);
			w1 = in - kfb;
			w2 = y1 = t1 - G * kfb;
			w3 = y2 = t2 - G2 * kfb;
			w4 = y3 = t3 - G3 * kfb;
			y4 = t4 - G4 * kfb;
			yb = ya;
			ya = y4;
			y[i] = y4;
			if (starting) {
				float s = grow;
				y1 *= s; y2 *= s; y3 *= s; y4 *= s;
				w1 *= s; w2 *= s; w3 *= s; w4 *= s;
				ya *= s; yb *= s;
			}
		}
	}
	f->y[0] = y1; f->y[1] = y2; f->y[2] = y3; f->y[3] = y4;
	f->w[0] = w1; f->w[1] = w2; f->w[2] = w3; f->w[3] = w4;
	f->ya = ya;
	f->yb = yb;
	f->noise = noise;
	f->starting = starting;
	f->start_left = start_left;
}

/*
 * The driven sample loop, at LADDER_OS times the rate, specialised by the
 * constant flags `varying` (coefficients per sample) and `asym` (biased
 * stage saturators); x may be NULL (silence).  The input (times the comp
 * gain) is upsampled, the ladder runs on the oversampled chunk with each
 * input sample's coefficients and parameters held for its LADDER_OS
 * subsamples, the output is decimated and its DC taken off.
 *
 * Every saturator is linearised by its secant gain at its predicted input
 * (as in ladder_run); stage i then gives y_i = G r_i v_i + h_i, the loop is
 * solved for y4, the feedback taken through the true saturator, and the
 * stages run forward through their true curves, sat(c v) / c (c = 2 drive,
 * so the small-signal response is the linear one).
 */
static inline __attribute__((always_inline)) void
ladder_run_os(struct ladder *f, const float *x, const float *pitch,
    const float *mod, float *y, unsigned n, int varying, int asym)
{
	float y1 = f->y[0], y2 = f->y[1], y3 = f->y[2], y4 = f->y[3];
	float w1 = f->w[0], w2 = f->w[1], w3 = f->w[2], w4 = f->w[3];
	float va1 = f->va[0], va2 = f->va[1], va3 = f->va[2], va4 = f->va[3];
	float vb1 = f->vb[0], vb2 = f->vb[1], vb3 = f->vb[2], vb4 = f->vb[3];
	float ya = f->ya, yb = f->yb;
	uint32_t noise = f->noise;
	float G = 0, H = 0, c2 = 0, k = f->k.base, c = f->c.base;
	float b = f->asym.base;
	float gain = 1.0f + f->comp.base * k;
	int gliding = smoother_moving(&f->k.d) || smoother_moving(&f->c.d) ||
	    smoother_moving(&f->comp.d) || smoother_moving(&f->asym.d);
	int starting = f->starting;
	unsigned start_left = f->start_left;
	float start_grow = f->start_grow_os;
	double dc = f->dc, dc_coef = f->dc_coef;
	struct ladder_asym as;
	/* per-sample coefficients of the current chunk (varying) */
	float Gv[LADDER_CHUNK], Hv[LADDER_CHUNK], C2v[LADDER_CHUNK];
	/* the oversampled input and output of the chunk */
	float xs[LADDER_OS * LADDER_CHUNK], ys[LADDER_OS * LADDER_CHUNK];

	if (gliding) {    /* this block starts from where they are now */
		k += f->k.d.cur;
		c += f->c.d.cur;
		b += f->asym.d.cur;
		gain = 1.0f + (f->comp.base + f->comp.d.cur) * k;
	}
	as = ladder_asym_make(b);
	if (!varying)
		ladder_settled_coeffs(f, LADDER_OS, &G, &H, &c2);
	for (unsigned done = 0; done < n; done += LADDER_CHUNK) {
		unsigned m = n - done < LADDER_CHUNK ? n - done : LADDER_CHUNK;

		if (varying)
			ladder_coeffs(f, pitch != NULL ? pitch + done : NULL,
			    mod != NULL ? mod + done : NULL, m,
			    f->pi_over_rate / LADDER_OS, Gv, Hv, C2v);
		if (!varying || !gliding) {
			/* the input, upsampled ahead of the loop */
			for (unsigned j = 0; j < m; j++) {
				float v = x != NULL ? gain * x[done + j] : 0;
				float t[2];
				ladder_hb_up(&f->up1, ladder_hb1, LADDER_HB1_N,
				    v, t);
				ladder_hb_up(&f->up2, ladder_hb2, LADDER_HB2_N,
				    t[0], &xs[LADDER_OS * j]);
				ladder_hb_up(&f->up2, ladder_hb2, LADDER_HB2_N,
				    t[1], &xs[LADDER_OS * j + 2]);
			}
		}
		for (unsigned j = 0; j < m; j++) {
			if (varying) {
				G = Gv[j];
				H = Hv[j];
				c2 = C2v[j];
				if (gliding) {
					k = glide_param_next(&f->k);
					c = glide_param_next(&f->c);
					gain = 1.0f +
					    glide_param_next(&f->comp) * k;
					if (asym)
						as = ladder_asym_make(
						    glide_param_next(&f->asym));
					float v = x != NULL ?
					    gain * x[done + j] : 0;
					float t[2];
					ladder_hb_up(&f->up1, ladder_hb1,
					    LADDER_HB1_N, v, t);
					ladder_hb_up(&f->up2, ladder_hb2,
					    LADDER_HB2_N, t[0],
					    &xs[LADDER_OS * j]);
					ladder_hb_up(&f->up2, ladder_hb2,
					    LADDER_HB2_N, t[1],
					    &xs[LADDER_OS * j + 2]);
				}
			}
			/* a start: the loop's gain made exactly 4 */
			float kk = k, grow = 1.0f;
			if (starting)
				ladder_start_step(f, ladder_loop_gain(f, G, H, c,
				    ya, yb, 1), start_grow, &starting,
				    &start_left, &kk, &grow);
			for (unsigned q = 0; q < LADDER_OS; q++) {
				unsigned s = LADDER_OS * j + q;
#define LADDER_R(v) (asym ? ladder_ratio_asym((v), &as) : ladder_ratio(v))
				noise = noise * 1664525u + 1013904223u;
				float in = xs[s] + (float)(int32_t)noise *
				    (LADDER_NOISE / 2147483648.0f);
				float pred = c2 * ya - yb;
				float HG = H - G;
				float h1 = HG * y1 + G * w1;
				float h2 = HG * y2 + G * w2;
				float h3 = HG * y3 + G * w3;
				float h4 = HG * y4 + G * w4;
				/* stage i linearised: y_i = G r_i v_i + h_i */
				float r1 = LADDER_R(c * (c2 * va1 - vb1));
				float r2 = LADDER_R(c * (c2 * va2 - vb2));
				float r3 = LADDER_R(c * (c2 * va3 - vb3));
				float r4 = LADDER_R(c * (c2 * va4 - vb4));
				float g1 = G * r1, g2 = G * r2;
				float g3 = G * r3, g4 = G * r4;
				/* so y4 = a u + b, summed as a tree */
				float g34 = g3 * g4, g234 = g2 * g34;
				float a = g1 * g234;
				float bb = (g234 * h1 + g34 * h2) +
				    (g4 * h3 + h4);
				float u = in - ladder_feedback(a * in + bb, kk,
				    kk * a, pred);
				/* forward through the true saturators */
				vb1 = va1; va1 = u;
				w1 = u * LADDER_R(c * u);
				y1 = G * w1 + h1;
				vb2 = va2; va2 = y1;
				w2 = y1 * LADDER_R(c * y1);
				y2 = G * w2 + h2;
				vb3 = va3; va3 = y2;
				w3 = y2 * LADDER_R(c * y2);
				y3 = G * w3 + h3;
				vb4 = va4; va4 = y3;
				w4 = y3 * LADDER_R(c * y3);
				y4 = G * w4 + h4;
				yb = ya;
				ya = y4;
				ys[s] = y4;
#undef LADDER_R
				if (starting) {
					float g = grow;
					y1 *= g; y2 *= g; y3 *= g; y4 *= g;
					w1 *= g; w2 *= g; w3 *= g; w4 *= g;
					va1 *= g; va2 *= g; va3 *= g; va4 *= g;
					vb1 *= g; vb2 *= g; vb3 *= g; vb4 *= g;
					ya *= g; yb *= g;
				}
			}
		}
		/* down to the rate, and the DC taken off */
		for (unsigned j = 0; j < m; j++) {
			float t[2];
			t[0] = ladder_hb_down(&f->down2, ladder_hb2,
			    LADDER_HB2_N, &ys[LADDER_OS * j]);
			t[1] = ladder_hb_down(&f->down2, ladder_hb2,
			    LADDER_HB2_N, &ys[LADDER_OS * j + 2]);
			double v = ladder_hb_down(&f->down1, ladder_hb1,
			    LADDER_HB1_N, t);
			dc += dc_coef * (v - dc);
			y[done + j] = (float)(v - dc);
		}
	}
	f->y[0] = y1; f->y[1] = y2; f->y[2] = y3; f->y[3] = y4;
	f->w[0] = w1; f->w[1] = w2; f->w[2] = w3; f->w[3] = w4;
	f->va[0] = va1; f->va[1] = va2; f->va[2] = va3; f->va[3] = va4;
	f->vb[0] = vb1; f->vb[1] = vb2; f->vb[2] = vb3; f->vb[3] = vb4;
	f->ya = ya;
	f->yb = yb;
	f->noise = noise;
	f->dc = dc;
	f->starting = starting;
	f->start_left = start_left;
}

/* The cutoff, radians per sample at `rate_scale` times the rate, where the
 * block starts (for a seed). */
static double
ladder_start_w(const struct ladder *f, const float *pitch, const float *mod,
    double rate_scale)
{
	double o = (double)f->oct.base + f->oct.d.cur;

	if (pitch != NULL)
		o += pitch[0];
	if (mod != NULL)
		o += (double)f->depth * mod[0];
	if (!(o > f->oct_lo))
		o = f->oct_lo;
	if (o > f->oct_hi)
		o = f->oct_hi;
	return 2.0 * DSP_PI * exp2(o) / (rate_scale * f->rate);
}

/* Whether the driven (oversampled) path runs this block. */
static inline int
ladder_driven(const struct ladder *f)
{
	return f->c.base > 0.0f || smoother_moving(&f->c.d);
}

/* Whether this block needs per-sample coefficients: a cutoff input is
 * connected or a parameter is gliding. */
static inline int
ladder_varying(const struct ladder *f, const float *pitch, const float *mod)
{
	return pitch != NULL || mod != NULL ||
	    smoother_moving(&f->oct.d) || smoother_moving(&f->k.d) ||
	    smoother_moving(&f->c.d) || smoother_moving(&f->comp.d) ||
	    smoother_moving(&f->asym.d);
}

/*
 * What a block does before its sample loop, on either path: asym's glide
 * ended at drive 0, the driven path's resamplers settled when it starts,
 * and the self-oscillation start
 * (a silent loop with res above the threshold is seeded; a start is for
 * silence, so an input signal ends it, the signal exciting the loop).
 */
static void
ladder_begin(struct ladder *f, const float *x, const float *pitch,
    const float *mod, unsigned n, int driven)
{
	if (!driven && smoother_moving(&f->asym.d))  /* no effect at drive 0 */
		f->asym.d.cur = f->asym.d.target;
	if (driven && !f->os_live) {
		/* into the oversampled path: its filters settled on where
		 * the signal is */
		float v = x != NULL ? x[0] * (1.0f + f->comp.base * f->k.base)
		    : 0.0f;
		ladder_hb_prime(&f->up1, v);
		ladder_hb_prime(&f->up2, v);
		ladder_hb_prime(&f->down2, f->ya + (float)f->dc);
		ladder_hb_prime(&f->down1, f->ya + (float)f->dc);
		f->os_live = 1;
	}
	f->os_live = driven;
	if (f->k.base > 4.0f && x != NULL && (f->starting ||
	    fabsf(f->ya) + fabsf(f->yb) < 1e-6f)) {
		float in_peak = 0.0f;
		for (unsigned i = 0; i < n; i++)
			in_peak = fmaxf(in_peak, fabsf(x[i]));
		if (!(in_peak < LADDER_START_QUIET)) {
			f->starting = 0;
			return;
		}
	}
	if (!f->starting && f->k.base > 4.0f &&
	    fabsf(f->ya) + fabsf(f->yb) < 1e-6f)
		ladder_seed(f, ladder_start_w(f, pitch, mod,
		    driven ? LADDER_OS : 1));
}

/* After a linear block: the DC the driven path blocked, if it ran until
 * recently, returns gently. */
static void
ladder_dc_return(struct ladder *f, float *y, unsigned n)
{
	if (f->dc != 0.0) {
		double dc = f->dc;
		for (unsigned i = 0; i < n; i++) {
			y[i] -= (float)dc;
			dc -= f->dc_coef * dc;
		}
		f->dc = fabs(dc) < 1e-9 ? 0.0 : dc;
	}
}

/* The linear path's sample loop after ladder_begin, one voice at a time
 * (ladder_dc_return follows it). */
static void
ladder_linear(struct ladder *f, const float *x, const float *pitch,
    const float *mod, float *y, unsigned n, int varying)
{
	if (varying)
		ladder_run(f, x, pitch, mod, y, n, 1);
	else
		ladder_run(f, x, pitch, mod, y, n, 0);
}

/* Whether the driven path's stage saturators are biased this block. */
static inline int
ladder_asym_on(const struct ladder *f)
{
	return f->asym.base != 0.0f || smoother_moving(&f->asym.d);
}

/* The driven path's sample loop after ladder_begin, one voice at a time. */
static void
ladder_os(struct ladder *f, const float *x, const float *pitch,
    const float *mod, float *y, unsigned n, int varying, int asym)
{
	if (varying) {
		if (asym)
			ladder_run_os(f, x, pitch, mod, y, n, 1, 1);
		else
			ladder_run_os(f, x, pitch, mod, y, n, 1, 0);
	} else {
		if (asym)
			ladder_run_os(f, x, pitch, mod, y, n, 0, 1);
		else
			ladder_run_os(f, x, pitch, mod, y, n, 0, 0);
	}
}

/* Produce `n` frames. */
static void
ladder_process(void *self, const float *const *in, float *const *out,
    unsigned n)
{
	struct ladder *f = self;
	const float *x = in[LADDER_IN_IN];
	const float *pitch = in[LADDER_IN_PITCH];
	const float *mod = in[LADDER_IN_MOD];
	float *y = out[LADDER_OUT_OUT];
	int varying = ladder_varying(f, pitch, mod);
	int driven = ladder_driven(f);
	int asym = ladder_asym_on(f);

	ladder_begin(f, x, pitch, mod, n, driven);
	if (driven) {
		ladder_os(f, x, pitch, mod, y, n, varying, asym);
		return;
	}
	ladder_linear(f, x, pitch, mod, y, n, varying);
	ladder_dc_return(f, y, n);
}

/*
 * Voices side by side (module_type.process_lanes, dsp/lanes.h): the sample
 * loops of ladder_run (drive 0) and ladder_run_os (drive > 0, or drive
 * gliding) on four (SSE2) or eight (AVX2) voices at once, one voice a
 * lane, the same operations in the same order as the scalar loop so every
 * sample is bit for bit what process writes.  The block's start
 * (ladder_begin: seed, asym, the resamplers primed) and end
 * (ladder_dc_return) run per voice as process runs them; each voice's
 * coefficients are ladder_coeffs' arithmetic on its own cutoff glide,
 * pitch and mod, lane by lane, or ladder_settled_coeffs.  A group holds
 * voices of one path: linear, driven, or driven with asym (the biased
 * saturator is another curve, a constant of the kernel).
 *
 * What runs through process's loop, one voice at a time, instead: a voice
 * in a self-oscillation start (ladder_seed, some 0.25 s after res goes
 * above the threshold on a silent loop): its per-sample gain estimate
 * reads the describing-function table, a lookup per lane.  The other
 * voices of the group still run side by side.
 */

/* Unsigned lanes for the noise generator (its LCG wraps). */
typedef uint32_t ladder_u4 __attribute__((vector_size(16)));
typedef uint32_t ladder_u8 __attribute__((vector_size(32)));
/* Doubles, one a lane, for the driven path's DC blocker (two registers
 * of each width: the compiler splits them). */
typedef double ladder_d4 __attribute__((vector_size(32)));
typedef double ladder_d8 __attribute__((vector_size(64)));

/* The kernels, compiled once per vector type: this file includes them
 * with LADDER_LV (the float vector), LADDER_LVI, LADDER_LVU (its int and
 * unsigned twins), LADDER_LVD (a double a lane), LADDER_LW (lanes) and
 * LADDER_LFN (a name's suffix). */
#define LADDER_LV lanes_v4
#define LADDER_LVI lanes_v4i
#define LADDER_LVU ladder_u4
#define LADDER_LVD ladder_d4
#define LADDER_LW 4
#define LADDER_LATTR
#define LADDER_LFN(name) name##_v4
#include "ladder_lanes.h"
#include "ladder_drive_lanes.h"
#undef LADDER_LV
#undef LADDER_LVI
#undef LADDER_LVU
#undef LADDER_LVD
#undef LADDER_LW
#undef LADDER_LATTR
#undef LADDER_LFN

#if defined(__x86_64__)
#define LADDER_LV lanes_v8
#define LADDER_LVI lanes_v8i
#define LADDER_LVU ladder_u8
#define LADDER_LVD ladder_d8
#define LADDER_LW 8
#define LADDER_LATTR __attribute__((target("avx2")))
#define LADDER_LFN(name) name##_v8
#include "ladder_lanes.h"
#include "ladder_drive_lanes.h"
#undef LADDER_LV
#undef LADDER_LVI
#undef LADDER_LVU
#undef LADDER_LVD
#undef LADDER_LW
#undef LADDER_LATTR
#undef LADDER_LFN
#endif

/*
 * Voices of a group that run side by side through one kernel: the linear
 * one (LADDER_LINEAR), or the driven one with its saturators symmetric or
 * biased (LADDER_DRIVEN, LADDER_DRIVEN_ASYM: a constant of the kernel, so
 * a group takes voices of one kind only).
 */
enum { LADDER_LINEAR, LADDER_DRIVEN, LADDER_DRIVEN_ASYM, LADDER_KINDS };

struct ladder_group {
	struct ladder *f[LANES_MAX];
	const float *x[LANES_MAX], *pitch[LANES_MAX], *mod[LANES_MAX];
	float *y[LANES_MAX];
	int varying[LANES_MAX];
	unsigned used;
};

/* A group's voice l: the sample loop of its kind, alone. */
static void
ladder_group_alone(struct ladder_group *g, unsigned l, unsigned kind,
    unsigned frames)
{
	if (kind == LADDER_LINEAR)
		ladder_linear(g->f[l], g->x[l], g->pitch[l], g->mod[l],
		    g->y[l], frames, g->varying[l]);
	else
		ladder_os(g->f[l], g->x[l], g->pitch[l], g->mod[l], g->y[l],
		    frames, g->varying[l], kind == LADDER_DRIVEN_ASYM);
}

/* The w voices from `at` of a group through the kernel of their kind, in
 * 8-lane vectors when `wide` (AVX2), else in 4-lane ones. */
static void
ladder_group_span(struct ladder_group *g, unsigned at, unsigned w,
    unsigned kind, unsigned frames, int wide)
{
	struct ladder *const *f = g->f + at;
	const float *const *x = g->x + at, *const *pitch = g->pitch + at;
	const float *const *mod = g->mod + at;
	float *const *y = g->y + at;
	const int *varying = g->varying + at;
	int asym = kind == LADDER_DRIVEN_ASYM;

#if defined(__x86_64__)
	if (wide && kind == LADDER_LINEAR)
		ladder_lanes_run_v8(f, w, x, pitch, mod, y, varying, frames);
	else if (wide)
		ladder_lanes_drive_run_v8(f, w, x, pitch, mod, y, varying,
		    frames, asym);
	if (wide)
		return;
#else
	(void)wide;
#endif
	if (kind == LADDER_LINEAR)
		ladder_lanes_run_v4(f, w, x, pitch, mod, y, varying, frames);
	else
		ladder_lanes_drive_run_v4(f, w, x, pitch, mod, y, varying,
		    frames, asym);
}

/*
 * The voices of a group through their kernel on `path`, in vectors.
 * AVX2: eight lanes (the unused ones padded) when more than four voices,
 * else four: a group costs what its serial chain costs, whatever its
 * width.  A voice left alone runs on its own, faster than in a vector of
 * padding.
 */
static void
ladder_group_run(struct ladder_group *g, unsigned kind, unsigned frames,
    unsigned path)
{
	for (unsigned at = 0; at < g->used; ) {
		unsigned left = g->used - at;
		int wide = path == LANES_AVX2 && left > 4;
		unsigned w = left < (wide ? 8u : 4u) ? left : (wide ? 8u : 4u);

		if (left == 1) {
			ladder_group_alone(g, at, kind, frames);
			break;
		}
		lanes_count(w, frames);
		ladder_group_span(g, at, w, kind, frames, wide);
		at += w;
	}
}

/* `lanes` voices of one patch module, `frames` each, on `path`. */
static void
ladder_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	/* the voices that run side by side, by kind */
	struct ladder_group group[LADDER_KINDS];

	for (unsigned kind = 0; kind < LADDER_KINDS; kind++)
		group[kind].used = 0;
	for (unsigned l = 0; l < lanes; l++) {
		struct ladder *v = self[l];
		const float *vx = in[l][LADDER_IN_IN];
		const float *vpitch = in[l][LADDER_IN_PITCH];
		const float *vmod = in[l][LADDER_IN_MOD];
		float *vy = out[l][LADDER_OUT_OUT];
		/* as ladder_process decides, before ladder_begin */
		int var = ladder_varying(v, vpitch, vmod);
		int driven = ladder_driven(v);
		int asym = ladder_asym_on(v);
		unsigned kind = !driven ? LADDER_LINEAR : asym ?
		    LADDER_DRIVEN_ASYM : LADDER_DRIVEN;

		ladder_begin(v, vx, vpitch, vmod, frames, driven);
		if (v->starting) {   /* alone, as process runs it */
			if (driven) {
				ladder_os(v, vx, vpitch, vmod, vy, frames, var,
				    asym);
			} else {
				ladder_linear(v, vx, vpitch, vmod, vy, frames,
				    var);
				ladder_dc_return(v, vy, frames);
			}
			continue;
		}
		struct ladder_group *g = &group[kind];
		g->f[g->used] = v;
		g->x[g->used] = vx;
		g->pitch[g->used] = vpitch;
		g->mod[g->used] = vmod;
		g->y[g->used] = vy;
		g->varying[g->used] = var;
		g->used++;
	}
	for (unsigned kind = 0; kind < LADDER_KINDS; kind++)
		ladder_group_run(&group[kind], kind, frames, path);
	/* the linear path's block ends as in ladder_process */
	for (unsigned l = 0; l < group[LADDER_LINEAR].used; l++)
		ladder_dc_return(group[LADDER_LINEAR].f[l],
		    group[LADDER_LINEAR].y[l], frames);
}

const struct module_type ladder_module = {
	.name = "ladder",
	.help = "Moog-style 4-pole lowpass, zero-delay feedback, self-oscillating",
	.size = sizeof(struct ladder),
	.inputs = ladder_inputs,
	.n_inputs = LADDER_N_IN,
	.outputs = ladder_outputs,
	.n_outputs = LADDER_N_OUT,
	.params = ladder_params,
	.n_params = LADDER_N_P,
	.init = ladder_init,
	.set_param = ladder_set_param,
	.process = ladder_process,
	.process_lanes = ladder_process_lanes,
};
