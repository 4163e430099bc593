/*
 * dsp/svf.c — state-variable filter: the trapezoidal (TPT, zero-delay
 * feedback) SVF, giving lowpass, bandpass, highpass and notch at once.
 *
 * It is the bilinear transform, prewarped at the cutoff, of the analog
 * prototype (s normalised to the cutoff, k = 1/q):
 *   lp = 1/D,  bp = k s/D,  hp = s^2/D,  notch = (s^2 + 1)/D,
 *   D = s^2 + k s + 1.
 * The bandpass is normalised to 0 dB at its peak whatever the q (so the
 * four outputs have the same level), and notch = input - bp = lp + hp.
 *
 * Cutoff is smoothed in octaves; coefficients are computed once per block
 * with an exact tan when nothing moves, and follow the cutoff (fast tan)
 * when the pitch or mod input is connected or a smoother is moving: exact
 * every sample where the modulation has audio-rate content, g interpolated
 * from exact values every 8 samples where it is smooth (see svf_coeffs).
 *
 * Voices side by side (process_lanes) run the same sample loop on four or
 * eight voices at once, bit-identical; its kernel is dsp/svf_lanes.h,
 * which this file includes once per vector type.
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
#define SVF_MAX_CUTOFF 0.45f
/* Samples per chunk: a chunk's coefficients are computed ahead of its
 * sample loop. */
#define SVF_CHUNK 32
/*
 * Control-rate coefficients (svf_coeffs): samples per segment, and the
 * tolerance of the straightness that lets a segment interpolate g, per
 * unit of the damping k = 1/q (octaves for the modulation; relative for
 * g).  Chosen so that the output differs from the per-sample one by less
 * than -90 dB of its RMS on envelope and LFO sweeps at any q
 * (tests/coef_rate_test.c measures it).
 */
#define SVF_SEG 16
#define SVF_SEG_TOL 5e-6f

/* tan(x) for x in [0, 1.42] radians (cutoff up to 0.45 of the rate): the
 * [7/6] Pade approximant, relative error 4e-9 (float rounding dominates). */
static inline float
svf_tan(float x)
{
	float x2 = x * x;
	float num = x * (135135.0f + x2 * (-17325.0f + x2 * (378.0f - x2)));
	float den = 135135.0f + x2 * (-62370.0f + x2 * (3150.0f - 28.0f * x2));
	return num / den;
}

enum { SVF_IN_IN, SVF_IN_PITCH, SVF_IN_MOD, SVF_N_IN };
enum { SVF_OUT_LP, SVF_OUT_BP, SVF_OUT_HP, SVF_OUT_NOTCH, SVF_N_OUT };
enum { SVF_P_CUTOFF, SVF_P_Q, SVF_P_DEPTH, SVF_N_P };

struct svf {
	float rate;             /* Hz */
	float pi_over_rate;     /* radians per Hz */
	float oct_lo, oct_hi;   /* cutoff limits, log2(Hz) */
	struct glide_param oct;   /* cutoff, log2(Hz) */
	struct glide_param k;     /* damping 1/q */
	float depth;            /* octaves per unit of mod */
	double ic1, ic2;        /* trapezoidal integrator states */
	/* every coefficient per sample, never at the control rate (tests:
	 * svf_coef_per_sample) */
	int coef_per_sample;
};

static const struct port_desc svf_inputs[SVF_N_IN] = {
	[SVF_IN_IN] = { "in", "audio in, [-1, 1]" },
	[SVF_IN_PITCH] = { "pitch", "cutoff offset, octaves (key tracking)" },
	[SVF_IN_MOD] = { "mod", "cutoff modulation, scaled by depth (octaves per unit)" },
};

static const struct port_desc svf_outputs[SVF_N_OUT] = {
	[SVF_OUT_LP] = { "lp", "lowpass, 12 dB/oct, audio" },
	[SVF_OUT_BP] = { "bp", "bandpass, 0 dB at the cutoff, audio" },
	[SVF_OUT_HP] = { "hp", "highpass, 12 dB/oct, audio" },
	[SVF_OUT_NOTCH] = { "notch", "notch (band reject) at the cutoff, audio" },
};

static const struct param_desc svf_params[SVF_N_P] = {
	[SVF_P_CUTOFF] = { "cutoff", "Hz", PARAM_REAL, 20, 20000, 1000,
	    "cutoff (centre) frequency", NULL },
	[SVF_P_Q] = { "q", "", PARAM_REAL, 0.5f, 40, 0.7071f,
	    "resonance: 0.5 critically damped, 0.707 Butterworth, 40 ringing", NULL },
	[SVF_P_DEPTH] = { "depth", "oct", PARAM_REAL, -8, 8, 4,
	    "octaves of cutoff per unit of the mod input", NULL },
};

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
svf_init(void *self, float rate, uint32_t seed)
{
	struct svf *f = self;

	(void)seed;
	f->rate = rate;
	f->pi_over_rate = (float)(DSP_PI / rate);
	f->oct_lo = 0.0f;                           /* 1 Hz */
	f->oct_hi = log2f(SVF_MAX_CUTOFF * rate);
	glide_param_init(&f->oct, log2f(svf_params[SVF_P_CUTOFF].def), rate);
	glide_param_init(&f->k, 1.0f / svf_params[SVF_P_Q].def, rate);
	f->depth = svf_params[SVF_P_DEPTH].def;
}

/* Tests: `on` makes the svf whose state is `self` compute every
 * coefficient per sample (coef_rate.h). */
void
svf_coef_per_sample(void *self, int on)
{
	struct svf *f = self;

	f->coef_per_sample = on;
}

/* Set parameter `index` (already clamped to its range). */
static void
svf_set_param(void *self, unsigned index, float value)
{
	struct svf *f = self;

	switch (index) {
	case SVF_P_CUTOFF:
		glide_param_set(&f->oct, log2f(value));
		break;
	case SVF_P_Q:
		glide_param_set(&f->k, 1.0f / value);
		break;
	case SVF_P_DEPTH:
		f->depth = value;
		break;
	}
}

/* g of a cutoff o (octaves, clamped) at pi_over_rate radians per Hz. */
static inline float
svf_exact(float o, float pi_over_rate)
{
	return svf_tan(pi_over_rate * fast_exp2f(o));
}

/* Whether the octaves o[a..b] lie within tol of their chord (every sample
 * looked at, as ladder_seg_straight does). */
static inline int
svf_seg_straight(const float *o, unsigned a, unsigned b, float inv, float tol)
{
	float d = o[b] - o[a];

	for (unsigned j = a + 1; j < b; j++) {
		float line = o[a] + d * ((float)(j - a) * inv);
		if (!(fabsf(o[j] - line) <= tol))
			return 0;
	}
	return 1;
}

/*
 * g of the next n <= SVF_CHUNK samples from their octaves o and damping k,
 * at a control rate where the modulation is smooth, as the ladder's
 * ladder_coeffs does: segments of SVF_SEG samples sharing their ends, g
 * interpolated along the chord of a segment's ends where its octaves are
 * straight and the exact g at its middle lies on the chord, both within
 * SVF_SEG_TOL times k where the segment starts (a high q rings for long
 * and keeps a cutoff error as phase); exact per sample anywhere else, and
 * always when f->coef_per_sample is set.
 */
static void
svf_coeffs(const struct svf *f, const float *o, const float *k, unsigned n,
    float *g)
{
	g[0] = svf_exact(o[0], f->pi_over_rate);
	for (unsigned a = 0; a + 1 < n; ) {
		unsigned len = n - 1 - a < SVF_SEG ? n - 1 - a : SVF_SEG;
		unsigned b = a + len, mid = a + len / 2;
		float inv = 1.0f / (float)len, tol = SVF_SEG_TOL * k[a];

		if (f->coef_per_sample ||
		    !svf_seg_straight(o, a, b, inv, tol)) {
			for (unsigned j = a + 1; j <= b; j++)
				g[j] = svf_exact(o[j], f->pi_over_rate);
			a = b;
			continue;
		}
		g[b] = svf_exact(o[b], f->pi_over_rate);
		float gm = svf_exact(o[mid], f->pi_over_rate);
		float tm = (float)(mid - a) * inv;
		int near = fabsf(gm - (g[a] + (g[b] - g[a]) * tm)) <= tol * gm;
		for (unsigned j = a + 1; j < b; j++) {
			float t = (float)(j - a) * inv;
			g[j] = near ? g[a] + (g[b] - g[a]) * t :
			    svf_exact(o[j], f->pi_over_rate);
		}
		a = b;
	}
}

/* Produce `n` frames of all four outputs. */
static void
svf_process(void *self, const float *const *in, float *const *out,
    unsigned n)
{
	struct svf *f = self;
	const float *x = in[SVF_IN_IN];
	const float *pitch = in[SVF_IN_PITCH];
	const float *mod = in[SVF_IN_MOD];
	float *lp = out[SVF_OUT_LP], *bp = out[SVF_OUT_BP];
	float *hp = out[SVF_OUT_HP], *notch = out[SVF_OUT_NOTCH];
	double ic1 = f->ic1, ic2 = f->ic2;
	int varying = pitch != NULL || mod != NULL ||
	    smoother_moving(&f->oct.d) || smoother_moving(&f->k.d);
	double g = 0, k = f->k.base, a1 = 0, a2 = 0, a3 = 0;
	/* a chunk's octaves, damping and g (varying) */
	float oc[SVF_CHUNK], kc[SVF_CHUNK], gc[SVF_CHUNK];

	/* Double precision inside: at low cutoffs 1 + g(g + k) sits within
	 * 1e-5 of 1, and in float its rounding alone moves a q = 40 peak by
	 * 0.005 dB at 20 Hz. */
	if (!varying) {
		/* settled: exact prewarping, once per block */
		g = tan(DSP_PI * exp2((double)f->oct.base) / f->rate);
		a1 = 1.0 / (1.0 + g * (g + k));
		a2 = g * a1;
		a3 = g * a2;
	}
	for (unsigned done = 0; done < n; done += SVF_CHUNK) {
		unsigned m = n - done < SVF_CHUNK ? n - done : SVF_CHUNK;

		if (varying) {
			for (unsigned j = 0; j < m; j++) {
				float o = glide_param_next(&f->oct);
				kc[j] = glide_param_next(&f->k);
				if (pitch != NULL)
					o += pitch[done + j];
				if (mod != NULL)
					o += f->depth * mod[done + j];
				oc[j] = clampf(o, f->oct_lo, f->oct_hi);
			}
			svf_coeffs(f, oc, kc, m, gc);
		}
		for (unsigned j = 0; j < m; j++) {
			unsigned i = done + j;
			double v0 = x != NULL ? x[i] : 0.0f;

			if (varying) {
				g = gc[j];
				k = kc[j];
				a1 = 1.0 / (1.0 + g * (g + k));
				a2 = g * a1;
				a3 = g * a2;
			}
			double v3 = v0 - ic2;
			double v1 = a1 * ic1 + a2 * v3;       /* bandpass */
			double v2 = ic2 + a2 * ic1 + a3 * v3; /* lowpass */
			ic1 = 2.0 * v1 - ic1;
			ic2 = 2.0 * v2 - ic2;
			double b = k * v1;
			lp[i] = (float)v2;
			bp[i] = (float)b;
			hp[i] = (float)(v0 - b - v2);
			notch[i] = (float)(v0 - b);
		}
	}
	f->ic1 = ic1;
	f->ic2 = ic2;
}

/*
 * Voices side by side (module_type.process_lanes, dsp/lanes.h): svf_process's
 * loop on four (SSE2) or eight (AVX2) voices at once, one voice a lane,
 * the same operations in the same order (the coefficients in float, the
 * filter in double, as svf_process has them), so every sample is bit for
 * bit what process writes.  Every configuration runs side by side: voices
 * with per-sample coefficients and voices with settled ones share a group,
 * each lane taking its own.
 */

/* The kernel, compiled once per vector type: this file includes it
 * with SVF_LV (the float vector), SVF_LVI (its int twin), SVF_LW (lanes),
 * SVF_LO, SVF_HI and SVF_ALL (the lanes of each half, and all of them),
 * SVF_LATTR (the target) and SVF_LFN (a name's suffix). */
#define SVF_LV lanes_v4
#define SVF_LVI lanes_v4i
#define SVF_LW 4
#define SVF_LO 0, 1
#define SVF_HI 2, 3
#define SVF_ALL 0, 1, 2, 3
#define SVF_LATTR
#define SVF_LFN(name) name##_v4
#include "svf_lanes.h"
#undef SVF_LV
#undef SVF_LVI
#undef SVF_LW
#undef SVF_LO
#undef SVF_HI
#undef SVF_ALL
#undef SVF_LATTR
#undef SVF_LFN

#if defined(__x86_64__)
#define SVF_LV lanes_v8
#define SVF_LVI lanes_v8i
#define SVF_LW 8
#define SVF_LO 0, 1, 2, 3
#define SVF_HI 4, 5, 6, 7
#define SVF_ALL 0, 1, 2, 3, 4, 5, 6, 7
#define SVF_LATTR __attribute__((target("avx2")))
#define SVF_LFN(name) name##_v8
#include "svf_lanes.h"
#undef SVF_LV
#undef SVF_LVI
#undef SVF_LW
#undef SVF_LO
#undef SVF_HI
#undef SVF_ALL
#undef SVF_LATTR
#undef SVF_LFN
#endif

/* `lanes` voices of one patch module, `frames` each, on `path`: eight
 * lanes (AVX2, the unused ones padded) for more than four voices, else
 * four; a voice left alone runs on its own, faster than in a vector of
 * padding. */
static void
svf_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	for (unsigned g = 0; g < lanes; ) {
		unsigned left = lanes - g;
		if (left == 1) {
			svf_process(self[g], in[g], out[g], frames);
			break;
		}
#if defined(__x86_64__)
		if (path == LANES_AVX2 && left > 4) {
			unsigned w = left < 8 ? left : 8;
			lanes_count(w, frames);
			svf_lanes_run_v8((struct svf *const *)self + g, w,
			    in + g, out + g, frames);
			g += w;
			continue;
		}
#else
		(void)path;
#endif
		unsigned w = left < 4 ? left : 4;
		lanes_count(w, frames);
		svf_lanes_run_v4((struct svf *const *)self + g, w, in + g,
		    out + g, frames);
		g += w;
	}
}

const struct module_type svf_module = {
	.name = "svf",
	.help = "state-variable filter (zero-delay feedback): lp, bp, hp, notch",
	.size = sizeof(struct svf),
	.inputs = svf_inputs,
	.n_inputs = SVF_N_IN,
	.outputs = svf_outputs,
	.n_outputs = SVF_N_OUT,
	.params = svf_params,
	.n_params = SVF_N_P,
	.init = svf_init,
	.set_param = svf_set_param,
	.process = svf_process,
	.process_lanes = svf_process_lanes,
};
