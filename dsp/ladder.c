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
 *              the true curves.
 * The feedback is a bounded saturator output, and each stage's state is kept
 * as its last output and last input, re-weighted with the current g every
 * sample (identical to the usual TPT state while g holds still), so an
 * abrupt cutoff drop cannot replay a half step taken at a high cutoff: the
 * filter stays bounded under any modulation.
 *
 * comp scales the input by 1 + comp k, restoring the passband level the
 * feedback takes away without changing the self-oscillation level.
 * Cutoff is smoothed in octaves and computed per sample (fast exp2 and tan,
 * four samples at a time, ahead of the sample loop) only when the pitch or
 * mod input is connected or a parameter is gliding.
 */
#include <math.h>
#include <string.h>

#include "dsp_util.h"
#include "module.h"

/* Highest cutoff, as a fraction of the sample rate. */
#define LADDER_MAX_CUTOFF 0.45f
/* Feedback gain at res = 1 (4 is the linear oscillation threshold). */
#define LADDER_K_MAX 4.2f
/* Saturator scale per unit of drive. */
#define LADDER_DRIVE_SCALE 2.0f
/* Amplitude of the internal noise floor that starts self-oscillation. */
#define LADDER_NOISE 1e-9f

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
 * Per-sample cutoff coefficients, computed for a chunk of samples ahead of
 * the sample loop so that their latency (exp2, tan and two divisions) never
 * sits on the loop's serial path, and four lanes at a time with GCC vector
 * extensions (SSE2 on any x86-64; other targets get scalar code).
 */
#define LADDER_CHUNK 64         /* samples per chunk, a multiple of 4 */

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
	LADDER_P_COMP, LADDER_N_P
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
	    "resonance; self-oscillates from about 0.95, steadily at 1", NULL },
	[LADDER_P_DRIVE] = { "drive", "", PARAM_REAL, 0, 1, 0,
	    "stage saturation; 0 keeps the stages linear", NULL },
	[LADDER_P_DEPTH] = { "depth", "oct", PARAM_REAL, -8, 8, 4,
	    "octaves of cutoff per unit of the mod input", NULL },
	[LADDER_P_COMP] = { "comp", "", PARAM_REAL, 0, 1, 0,
	    "passband gain compensation for resonance", NULL },
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
 * Coefficients of the next n <= LADDER_CHUNK samples: the cutoff in octaves
 * (smoothed parameter + pitch + depth mod, clamped) mapped to
 *   G = g / (1 + g),  H = 1 / (1 + g),
 *   C2 = 2 cos(w) = 2 (1 - g^2) / (1 + g^2),
 * g = tan(w / 2), w = 2 pi fc / rate.  tan(x), x in [0, 1.42] radians, is
 * the [7/6] Pade approximant num / den (relative error 4e-9, below float
 * rounding), so G = num / (num + den), H = den / (num + den) and
 * C2 = 2 (den - num) (den + num) / (den^2 + num^2).  pitch and mod may be
 * NULL (unconnected); G, H and C2 hold n rounded up to a multiple of 4.
 */
static void
ladder_coeffs(struct ladder *f, const float *pitch, const float *mod,
    unsigned n, float *G, float *H, float *C2)
{
	float glide[LADDER_CHUNK];
	int moving = smoother_moving(&f->oct.d);
	ladder_v4 lo = ladder_splat(f->oct_lo), hi = ladder_splat(f->oct_hi);
	ladder_v4 depth = ladder_splat(f->depth);

	if (moving)     /* the cutoff parameter is gliding: serial, rare */
		for (unsigned i = 0; i < n; i++)
			glide[i] = glide_param_next(&f->oct);
	for (unsigned i = 0; i < n; i += 4) {
		ladder_v4 o = ladder_splat(f->oct.base);
		if (moving)
			o = ladder_load4(&glide[i], n - i);
		if (pitch != NULL)
			o += ladder_load4(&pitch[i], n - i);
		if (mod != NULL)
			o += depth * ladder_load4(&mod[i], n - i);
		o = ladder_clamp_v4(o, lo, hi);    /* a NaN gives the lowest */

		ladder_v4 x = f->pi_over_rate * ladder_exp2_v4(o);
		ladder_v4 x2 = x * x;
		ladder_v4 num = x * (135135.0f + x2 * (-17325.0f +
		    x2 * (378.0f - x2)));
		ladder_v4 den = 135135.0f + x2 * (-62370.0f +
		    x2 * (3150.0f - 28.0f * x2));
		ladder_v4 inv = 1.0f / (num + den);
		ladder_v4 g = num * inv, h = den * inv;
		ladder_v4 c2 = 2.0f * (den - num) * (den + num) /
		    (den * den + num * num);
		memcpy(&G[i], &g, sizeof g);
		memcpy(&H[i], &h, sizeof h);
		memcpy(&C2[i], &c2, sizeof c2);
	}
}

/*
 * The sample loop, specialised by the constant flags `varying` (coefficients
 * per sample) and `driven` (stage saturation); x may be NULL (silence).
 *
 * Each saturator is linearised by its secant gain sat(v)/v at a predicted v:
 * its last two values continued as a sinusoid at the cutoff,
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
    const float *mod, float *y, unsigned n, int varying, int driven)
{
	float y1 = f->y[0], y2 = f->y[1], y3 = f->y[2], y4 = f->y[3];
	float w1 = f->w[0], w2 = f->w[1], w3 = f->w[2], w4 = f->w[3];
	float va1 = f->va[0], va2 = f->va[1], va3 = f->va[2], va4 = f->va[3];
	float vb1 = f->vb[0], vb2 = f->vb[1], vb3 = f->vb[2], vb4 = f->vb[3];
	float ya = f->ya, yb = f->yb;
	uint32_t noise = f->noise;
	float G = 0, H = 0, c2 = 0, k = f->k.base, c = f->c.base;
	float gain = 1.0f + f->comp.base * k;
	int gliding = smoother_moving(&f->k.d) || smoother_moving(&f->c.d) ||
	    smoother_moving(&f->comp.d);
	/* per-sample coefficients of the current chunk (varying) */
	float Gv[LADDER_CHUNK], Hv[LADDER_CHUNK], C2v[LADDER_CHUNK];

	if (gliding) {    /* this block starts from where they are now */
		k += f->k.d.cur;
		c += f->c.d.cur;
		gain = 1.0f + (f->comp.base + f->comp.d.cur) * k;
	}

	if (!varying) {
		/* settled: exact prewarping, once per block */
		double g = tan(DSP_PI * exp2((double)f->oct.base) / f->rate);
		G = (float)(g / (1.0 + g));
		H = (float)(1.0 / (1.0 + g));
		c2 = (float)(2.0 * (1.0 - g * g) / (1.0 + g * g));
	}
	for (unsigned done = 0; done < n; done += LADDER_CHUNK) {
		unsigned m = n - done < LADDER_CHUNK ? n - done : LADDER_CHUNK;

		if (varying)
			ladder_coeffs(f, pitch != NULL ? pitch + done : NULL,
			    mod != NULL ? mod + done : NULL, m, Gv, Hv, C2v);
		for (unsigned j = 0; j < m; j++) {
			unsigned i = done + j;

			if (varying) {
				G = Gv[j];
				H = Hv[j];
				c2 = C2v[j];
				if (gliding) {
					k = glide_param_next(&f->k);
					c = glide_param_next(&f->c);
					gain = 1.0f +
					    glide_param_next(&f->comp) * k;
				}
			}
			noise = noise * 1664525u + 1013904223u;
			float in = (float)(int32_t)noise *
			    (LADDER_NOISE / 2147483648.0f);
			if (x != NULL)
				in += gain * x[i];

			/* the feedback saturator's predicted input */
			float pred = c2 * ya - yb;
			/* the stages' states: y_i = G v_i + h_i */
			float HG = H - G;
			float h1 = HG * y1 + G * w1, h2 = HG * y2 + G * w2;
			float h3 = HG * y3 + G * w3, h4 = HG * y4 + G * w4;
			float u;
			if (!driven) {
				/*
				 * With the loop open (u = in), stage i
				 * would give t_i = G^i in + G^(i-1) h_1 +
				 * ... + h_i, summed as a tree so that the
				 * products run in parallel; the feedback
				 * k sat(y4) then takes G^i times itself off.
				 */
				float G2 = G * G, G3 = G2 * G, G4 = G2 * G2;
				float t1 = G * in + h1;
				float t2 = (G2 * in + G * h1) + h2;
				float t3 = (G3 * in + G2 * h1) + (G * h2 + h3);
				float t4 = (G3 * h1 + G2 * h2) +
				    (G * h3 + (G4 * in + h4));
				float kfb = ladder_feedback(t4, k, k * G4,
				    pred);
				u = in - kfb;
				w1 = u;
				w2 = y1 = t1 - G * kfb;
				w3 = y2 = t2 - G2 * kfb;
				w4 = y3 = t3 - G3 * kfb;
				y4 = t4 - G4 * kfb;
			} else {
				/* stage i linearised: y_i = G r_i v_i + h_i */
				float r1 = ladder_ratio(c * (c2 * va1 - vb1));
				float r2 = ladder_ratio(c * (c2 * va2 - vb2));
				float r3 = ladder_ratio(c * (c2 * va3 - vb3));
				float r4 = ladder_ratio(c * (c2 * va4 - vb4));
				float g1 = G * r1, g2 = G * r2;
				float g3 = G * r3, g4 = G * r4;
				/* so y4 = a u + b, summed as above */
				float g34 = g3 * g4, g234 = g2 * g34;
				float a = g1 * g234;
				float b = (g234 * h1 + g34 * h2) +
				    (g4 * h3 + h4);
				u = in - ladder_feedback(a * in + b, k, k * a,
				    pred);
				/* forward through the true saturators */
				vb1 = va1; va1 = u;
				w1 = u * ladder_ratio(c * u);
				y1 = G * w1 + h1;
				vb2 = va2; va2 = y1;
				w2 = y1 * ladder_ratio(c * y1);
				y2 = G * w2 + h2;
				vb3 = va3; va3 = y2;
				w3 = y2 * ladder_ratio(c * y2);
				y3 = G * w3 + h3;
				vb4 = va4; va4 = y3;
				w4 = y3 * ladder_ratio(c * y3);
				y4 = G * w4 + h4;
			}
			yb = ya;
			ya = y4;
			y[i] = y4;
		}
	}
	f->y[0] = y1; f->y[1] = y2; f->y[2] = y3; f->y[3] = y4;
	f->w[0] = w1; f->w[1] = w2; f->w[2] = w3; f->w[3] = w4;
	f->va[0] = va1; f->va[1] = va2; f->va[2] = va3; f->va[3] = va4;
	f->vb[0] = vb1; f->vb[1] = vb2; f->vb[2] = vb3; f->vb[3] = vb4;
	f->ya = ya;
	f->yb = yb;
	f->noise = noise;
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
	int varying = pitch != NULL || mod != NULL ||
	    smoother_moving(&f->oct.d) || smoother_moving(&f->k.d) ||
	    smoother_moving(&f->c.d) || smoother_moving(&f->comp.d);
	int driven = f->c.base > 0.0f || smoother_moving(&f->c.d);

	if (varying) {
		if (driven)
			ladder_run(f, x, pitch, mod, y, n, 1, 1);
		else
			ladder_run(f, x, pitch, mod, y, n, 1, 0);
	} else {
		if (driven)
			ladder_run(f, x, pitch, mod, y, n, 0, 1);
		else
			ladder_run(f, x, pitch, mod, y, n, 0, 0);
	}
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
};
