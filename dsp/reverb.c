/*
 * dsp/reverb.c — algorithmic stereo reverb: a feedback delay network (FDN)
 * of 32 lines with a Hadamard feedback matrix under slowly turning
 * rotations, fed through a predelay, input diffusion allpasses and a
 * spread of injection points.
 *
 * Signal flow:
 *
 *   left, right -> predelay (interpolated, glides) -> 4 short allpasses
 *   per channel -> every line takes both diffused channels, each from its
 *   own distance behind the diffuser -> each line: read at a whole-sample
 *   delay -> two-band decay shelf -> Hadamard mix (fast Walsh-Hadamard
 *   transform) -> rotations of line pairs (the modulation) -> written
 *   back.  Each wet output sums one tap on every line, at its own short
 *   distance behind the write point, plus the diffused input of its side;
 *   width scales their side part; mix crossfades.
 *
 * Decay.  The line lengths are distinct primes at size 1, geometric from
 * 24 to 68 ms, scaled by `size` and rounded to whole samples.  A line of L
 * samples takes a first-order shelf whose gain is g_lo = 10^(-3 L / (fs T))
 * at DC and g_hi = 10^(-3 L / (fs T damping)) at Nyquist, with the
 * geometric mean of the two at the 4 kHz crossover (bilinear, prewarped
 * there).  As the mix is orthogonal at every instant and every loop loses
 * exactly its length times the same dB per sample, every mode decays at
 * the set T60 below the crossover, and at damping 1 at every frequency: a
 * settled line is read at a whole sample, so no interpolator takes any
 * treble off.  At the crossover the rate of decay in dB/s is the mean of
 * the two, so T60(4 kHz) = decay * 2 d / (1 + d) for damping d.  The
 * extra high-frequency loss is capped at 60 dB per pass.
 *
 * No comb.  The tail repeats itself wherever two echo paths differ by one
 * trip round a loop: a signal that enters lines i and j together comes
 * out again one length of i later through the mix (weight: the matrix's
 * entry), and an output that reads line i hears i's own return one length
 * later.  Fed the same signal at the same instant, the lines made these
 * echoes add up at one line's length (autocorrelation 0.14..0.45 at 8 and
 * 16 lines).  Here every line takes each input channel from its own
 * distance (0..24 ms) behind the diffuser and each output reads every line
 * at its own distance (0.5..20 ms), so that the echoes of one loop land at
 * as many lags as there are pairs of lines, each with weight about 1/N^1.5
 * (N = 32: 0.006); the diffusion allpasses are short (2-4 ms), so their own
 * ringing has died before the tail.  The distances and signs are drawn
 * once from a fixed seed (the same for every instance), chosen for a tail
 * whose autocorrelation beyond 5 ms stays at 0.045 or below at the tested
 * settings (white noise under the same envelope: 0.02..0.03).  The
 * modulation smears what is left: with few modes per hertz (a small size),
 * the remaining ripple is modal, not a comb.
 *
 * Modulation.  After the Hadamard mix, each pair of lines turns by an
 * angle swinging +-0.7 rad at its own slow rate (0.82..2.3 Hz, phases from
 * the init seed): the modes wander (by about 1 Hz), yet the mix stays
 * orthogonal, so the decay is not touched and nothing is lost to
 * interpolation.
 *
 * Glides.  Every parameter reaches its new value per sample: decay and
 * damping move the shelves' coefficients together through two one-poles
 * in series of SMOOTH_SECONDS / 2 each (a convex mix of stable shelves,
 * whose speed has no step either, so an edit leaves no splatter); width
 * and mix by a one-pole of SMOOTH_SECONDS; predelay by a one-pole of 50 ms; size by a one-pole of
 * 200 ms, slew-limited so that its pitch glide stays under a semitone,
 * with every line read by 4-point Lagrange interpolation until it settles
 * on its new whole-sample length.  The per-sample values of a 32-sample
 * tick are computed at its start, counted in samples, so the output does
 * not depend on the block size.
 *
 * Processing.  A chunk (at most one tick) is never longer than the
 * shortest line, so the lines are read for the whole chunk first, then
 * filtered, mixed and written back.  They are held line by line, so the
 * butterflies and reads are loops over the chunk's samples that the
 * compiler vectorises.
 *
 * Subnormals.  A constant 1e-20 is added to the diffuser input: the network
 * settles on a tiny normal-range floor (about -400 dB) instead of decaying
 * into subnormal numbers, so a tail in silence costs the same without FTZ.
 *
 * Buffers are sized from the rate (size_for_rate): lines for size 2, 0.5 s
 * of predelay per channel, the allpasses, 24 ms of diffused input per
 * channel for the injection points.  Offsets, not pointers, locate
 * them in the state, which the engine may map at a different address in
 * another process.
 */
#include <math.h>
#include <string.h>

#include "dsp_util.h"
#include "module.h"
#include "wavetable.h"

#define REVERB_LINES 32
#define REVERB_PAIRS (REVERB_LINES / 2)
/* the Hadamard transform runs as stages 2+4, 8+16, then 1 (reverb_run) */
_Static_assert(REVERB_LINES == 32, "reverb_run stages the transform for 32 lines");
#define REVERB_AP 4                 /* allpasses per channel */
#define REVERB_TICK 32              /* samples per control update */
_Static_assert(REVERB_LINES == REVERB_TICK && REVERB_LINES % 4 == 0,
    "reverb_transpose turns a square block, 4 by 4");
#define REVERB_MIN_SIZE 0.3f
#define REVERB_MAX_SIZE 2.0f
#define REVERB_MAX_PREDELAY 0.5f    /* s */
#define REVERB_ROT_DEPTH 0.7f       /* rad, peak angle of each pair's turn */
#define REVERB_XOVER_HZ 4000.0f     /* shelf crossover, Hz */
/* Cap of the extra HF loss per pass, log2 of sqrt(g_lo / g_hi): 60 dB. */
#define REVERB_MAX_HF_HALF 4.98f
#define REVERB_SIZE_SMOOTH 0.2      /* s, time constant of size changes */
/* Fastest size glide: the longest line's read point moves at most this
 * many samples per sample (a pitch bend under a semitone). */
#define REVERB_SIZE_SLEW 0.05
#define REVERB_PREDELAY_SMOOTH 0.05 /* s */
#define REVERB_FLOOR 1e-20f         /* constant added against subnormals */
#define REVERB_MARGIN 8             /* samples beyond the longest read */
/* Each line's ring is followed by copies of its first samples, so the
 * interpolator's 4 taps are always contiguous (16 bytes keep alignment). */
#define REVERB_GUARD 4
/* Wet gain of the lines at size 1, scaled by sqrt(size) so that the level
 * hardly follows the size. */
#define REVERB_WET_GAIN 0.7f
/* Gain of the diffused input in the wet output, relative to the lines'. */
#define REVERB_DIRECT 0.7f
/* log2 of the amplitude lost per second for a T60 of 1 s: 60 dB. */
#define REVERB_LOG2_60DB 9.965784285f
/* A glide closer than this to its end (fraction of the way) has ended. */
#define REVERB_SETTLED 1e-9

enum { REVERB_IN_L, REVERB_IN_R, REVERB_N_IN };
enum { REVERB_OUT_L, REVERB_OUT_R, REVERB_N_OUT };
enum {
	REVERB_DECAY, REVERB_SIZE, REVERB_DAMPING, REVERB_PREDELAY,
	REVERB_WIDTH, REVERB_MIX, REVERB_N_P
};

/* Line lengths at size 1: geometric from the shortest to the longest,
 * each made the next unused prime. */
#define REVERB_SHORTEST_MS 24.0f
#define REVERB_LONGEST_MS 68.3f

/* Rotation LFOs: pair j turns at REVERB_ROT_HZ * REVERB_ROT_STEP^j Hz. */
#define REVERB_ROT_HZ 0.82f
#define REVERB_ROT_STEP 1.07f

/* Input injection and output taps: each line takes both channels of the
 * diffused input, each from its own distance behind the diffuser (up to
 * REVERB_INJ_MAX_MS), and each output sums one tap on every line at its
 * own distance behind the write point (REVERB_TAP_MIN_MS ..
 * REVERB_TAP_MAX_MS); distances and signs are drawn once from a fixed
 * seed, so every instance sounds alike. */
#define REVERB_INJ_MAX_MS 24.0f
#define REVERB_TAP_MIN_MS 0.5f
#define REVERB_TAP_MAX_MS 20.0f
#define REVERB_LAYOUT_SEED 11u

/* Diffuser allpasses: lengths in ms per channel, and gains. */
static const float reverb_ap_ms[2][REVERB_AP] = {
	{ 1.733f, 2.341f, 3.113f, 4.307f },
	{ 1.931f, 2.617f, 3.371f, 4.129f },
};
static const float reverb_ap_gain[REVERB_AP] = { 0.7f, 0.7f, 0.65f, 0.6f };

/* One Schroeder allpass of the input diffusion. */
struct reverb_ap {
	unsigned off;       /* start in mem[], floats */
	unsigned len;       /* delay, samples */
	unsigned idx;       /* read/write position in [0, len) */
	float gain;
};

/* Where everything lives in mem[], at one rate. */
struct reverb_layout {
	float base[REVERB_LINES];      /* line lengths at size 1, samples */
	unsigned line_len;             /* per-line ring, a power of two */
	unsigned pre_len;              /* per-channel predelay, a power of two */
	unsigned inj_len;              /* per-channel injection ring, ditto */
	unsigned ap_len[2][REVERB_AP]; /* samples */
	size_t total;                  /* floats */
};

struct reverb {
	float rate;
	unsigned line_mask;            /* line ring length - 1 */
	unsigned line_stride;          /* floats from one line to the next */
	unsigned pre_mask;             /* predelay buffer length - 1 */
	unsigned pre_off[2];           /* predelay buffers in mem[] */
	unsigned inj_mask;             /* injection ring length - 1 */
	unsigned inj_off[2];           /* injection rings in mem[] */
	unsigned iw;                   /* injection ring write index */
	unsigned inj[2][REVERB_LINES]; /* each line's distance into them */
	float inj_gain[2][REVERB_LINES];
	unsigned w;                    /* line write index */
	unsigned pw;                   /* predelay write index */
	unsigned phase;                /* samples into the current tick */
	float base[REVERB_LINES];      /* line lengths at size 1, samples */
	unsigned tap[2][REVERB_LINES]; /* output taps behind the write point */
	float tap_gain[2][REVERB_LINES];

	/* size: each line's delay glides from `from` to `to` (whole samples)
	 * as u goes from 0 to 1 */
	float size, size_target;       /* 0.3..2: the glide's start and end */
	float size_set;                /* the value set, taken at a tick */
	int size_pending;              /* size_set not yet taken */
	double from[REVERB_LINES], to[REVERB_LINES];
	double u;                      /* the glide, 0..1; 1: settled */
	double u_coef;                 /* one-pole, per sample */
	double u_max_step;             /* slew limit, per sample */
	unsigned delay[REVERB_LINES];  /* settled delays, samples */
	int gliding;                   /* this tick, lines are interpolated */

	/* decay shelves, transposed direct form II, with the Hadamard's
	 * 1/sqrt(N) in b; while moving, each coefficient approaches its
	 * target (t*) per sample through a middle stage (m*) */
	float b0[REVERB_LINES], b1[REVERB_LINES], a1[REVERB_LINES];
	float tb0[REVERB_LINES], tb1[REVERB_LINES], ta1[REVERB_LINES];
	float mb0[REVERB_LINES], mb1[REVERB_LINES], ma1[REVERB_LINES];
	float z[REVERB_LINES];
	float shelf_coef;              /* each of two one-poles, per sample */
	int shelf_dirty;               /* targets to recompute */
	int shelf_moving;              /* coefficients short of the targets */
	float xover_k;                 /* 1 / tan(pi fc / fs) */
	float decay;                   /* parameter values, s and ratio */
	float damping;

	/* rotation modulation: quadrature LFOs at tick rate, and each pair's
	 * cos/sin ramped through the tick */
	float lfo_c[REVERB_PAIRS], lfo_s[REVERB_PAIRS];
	float rot_c[REVERB_PAIRS], rot_s[REVERB_PAIRS];
	float cs0[REVERB_PAIRS], sn0[REVERB_PAIRS];   /* at the tick's start */
	float cs1[REVERB_PAIRS], sn1[REVERB_PAIRS];   /* at its end */
	float dcs[REVERB_PAIRS], dsn[REVERB_PAIRS];   /* per sample */

	double pre, pre_target;        /* predelay, samples (>= 1) */
	double pre_mid;                /* the first of its two one-poles */
	double pre_coef;               /* one-pole, per sample */
	int pre_moving;                /* this tick */
	struct smoother width;         /* 0..1, per sample */
	struct smoother mix;           /* 0 dry .. 1 wet, per sample */

	/* this tick's per-sample controls */
	double u_t[REVERB_TICK];
	double pre_t[REVERB_TICK];
	float width_t[REVERB_TICK];
	float mix_t[REVERB_TICK];
	float gain_t[REVERB_TICK];

	struct reverb_ap ap[2][REVERB_AP];
	int running;                   /* process has run: smooth changes */
	float mem[];                   /* lines, predelays, allpasses */
};

static const struct param_desc reverb_params[REVERB_N_P] = {
	[REVERB_DECAY] = { .name = "decay", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.1f, .max = 30.0f, .def = 2.0f,
	    .help = "reverberation time T60 below the 4 kHz crossover, s" },
	[REVERB_SIZE] = { .name = "size", .unit = "", .kind = PARAM_REAL,
	    .min = REVERB_MIN_SIZE, .max = REVERB_MAX_SIZE, .def = 1.0f,
	    .help = "scale of the delay lines (1: 24..68 ms); changes glide (200 ms, pitch bend < 1 semitone)" },
	[REVERB_DAMPING] = { .name = "damping", .unit = "", .kind = PARAM_REAL,
	    .min = 0.05f, .max = 1.0f, .def = 0.5f,
	    .help = "high-frequency T60 as a ratio of decay (1: flat; at 4 kHz 2d/(1+d))" },
	[REVERB_PREDELAY] = { .name = "predelay", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = REVERB_MAX_PREDELAY, .def = 0.01f,
	    .help = "delay before the wet signal, s (at least 1 sample; glides, 50 ms)" },
	[REVERB_WIDTH] = { .name = "width", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 1.0f,
	    .help = "stereo width of the wet signal, 0 mono .. 1 full" },
	[REVERB_MIX] = { .name = "mix", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 0.3f,
	    .help = "dry/wet crossfade, 0 dry only .. 1 wet only" },
};

/* Nonzero when n (>= 2) is prime. */
static int
reverb_is_prime(unsigned n)
{
	if (n < 4)
		return n >= 2;
	if (n % 2 == 0)
		return 0;
	for (unsigned d = 3; d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

/* The smallest power of two >= n. */
static unsigned
reverb_pow2(unsigned n)
{
	unsigned len = 1;

	while (len < n)
		len <<= 1;
	return len;
}

/* Compute the buffer layout at `rate` Hz: line lengths (distinct primes,
 * increasing, at least a tick plus the interpolator's reach at the
 * smallest size), buffer lengths and the total in floats. */
static void
reverb_layout(float rate, struct reverb_layout *lay)
{
	unsigned prev = (unsigned)ceilf((REVERB_TICK + 8) / REVERB_MIN_SIZE);
	unsigned longest;

	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float ms = REVERB_SHORTEST_MS * powf(REVERB_LONGEST_MS /
		    REVERB_SHORTEST_MS, (float)i / (REVERB_LINES - 1));
		unsigned n = (unsigned)lrintf(ms * 0.001f * rate);
		if (n <= prev)
			n = prev + 1;
		while (!reverb_is_prime(n))
			n++;
		lay->base[i] = (float)n;
		prev = n;
	}
	longest = (unsigned)ceilf(lay->base[REVERB_LINES - 1] * REVERB_MAX_SIZE) +
	    REVERB_MARGIN;
	lay->line_len = reverb_pow2(longest);
	lay->pre_len = reverb_pow2((unsigned)ceilf(REVERB_MAX_PREDELAY * rate) +
	    REVERB_TICK + REVERB_MARGIN);
	lay->total = (size_t)(lay->line_len + REVERB_GUARD) * REVERB_LINES +
	    (size_t)(lay->pre_len + REVERB_GUARD) * 2;
	lay->inj_len = reverb_pow2((unsigned)ceilf(REVERB_INJ_MAX_MS * 0.001f *
	    rate) + REVERB_TICK + REVERB_MARGIN);
	lay->total += (size_t)lay->inj_len * 2;
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < REVERB_AP; k++) {
			unsigned n = (unsigned)lrintf(reverb_ap_ms[c][k] * 0.001f *
			    rate);
			/* longer than a tick: a chunk never reads its own writes */
			lay->ap_len[c][k] = n > REVERB_TICK ? n : REVERB_TICK + 1;
			lay->total += lay->ap_len[c][k];
		}
}

/* Bytes of state at `rate`: the struct and its buffers. */
static size_t
reverb_size_for_rate(float rate)
{
	struct reverb_layout lay;

	reverb_layout(rate, &lay);
	return sizeof(struct reverb) + lay.total * sizeof(float);
}

/* Line i's delay, samples, at glide position u. */
static inline double
reverb_line_delay(const struct reverb *r, unsigned i, double u)
{
	return r->from[i] + (r->to[i] - r->from[i]) * u;
}

/* Aim every line's glide at the target size: from where it is now to
 * the whole-sample delay of the new size. */
static void
reverb_aim_size(struct reverb *r)
{
	double span = 0;

	for (unsigned i = 0; i < REVERB_LINES; i++) {
		r->from[i] = reverb_line_delay(r, i, r->u);
		r->to[i] = rint((double)r->base[i] * r->size_target);
		span = fmax(span, fabs(r->to[i] - r->from[i]));
	}
	r->u = span > 0 ? 0.0 : 1.0;
	r->u_max_step = span > 0 ? REVERB_SIZE_SLEW / span : 1.0;
	r->shelf_dirty = 1;
}

/* Recompute each line's shelf targets from the decay and damping
 * parameters and the line's delay at the end of this tick: DC gain
 * g_lo = 2^(-k_lo L / fs), Nyquist gain g_hi = 2^(-k_hi L / fs),
 * sqrt(g_lo g_hi) at the crossover. */
static void
reverb_shelf_targets(struct reverb *r, double u_end)
{
	const float hadamard = 1.0f / sqrtf((float)REVERB_LINES);
	float k_lo = REVERB_LOG2_60DB / r->decay;
	float lo = k_lo / r->rate;
	float hi = k_lo / r->damping / r->rate;
	float kn = r->xover_k;

	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float len = (float)reverb_line_delay(r, i, u_end);
		float e_lo = lo * len;
		float half = 0.5f * (hi - lo) * len;     /* -log2 sqrt(r) */
		if (half > REVERB_MAX_HF_HALF)
			half = REVERB_MAX_HF_HALF;
		float g = exp2f(-e_lo) * hadamard;
		float sr = exp2f(-half);                 /* sqrt(g_hi / g_lo) */
		float ia0 = 1.0f / (1.0f + kn / sr);
		r->tb0[i] = g * (1.0f + kn * sr) * ia0;
		r->tb1[i] = g * (1.0f - kn * sr) * ia0;
		r->ta1[i] = (1.0f - kn / sr) * ia0;
	}
}

/* The rotation of pair j now: cos and sin of its angle. */
static inline void
reverb_rotation(const struct reverb *r, unsigned j, float *c, float *s)
{
	float a = REVERB_ROT_DEPTH * r->lfo_s[j];

	*c = cosf(a);
	*s = sinf(a);
}

/* Jump every control to its target: before the first block. */
static void
reverb_snap(struct reverb *r)
{
	r->u = 1.0;
	r->size_target = r->size_set;
	r->size_pending = 0;
	for (unsigned i = 0; i < REVERB_LINES; i++)
		r->from[i] = r->to[i] = rint((double)r->base[i] * r->size_target);
	r->size = r->size_target;
	reverb_shelf_targets(r, 1.0);
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		r->b0[i] = r->mb0[i] = r->tb0[i];
		r->b1[i] = r->mb1[i] = r->tb1[i];
		r->a1[i] = r->ma1[i] = r->ta1[i];
	}
	r->shelf_dirty = r->shelf_moving = 0;
	r->width.cur = r->width.target;
	r->mix.cur = r->mix.target;
	r->pre = r->pre_mid = r->pre_target;
}

/* Set parameter `index` (decay and predelay in s, the others ratios);
 * values are reached smoothly once running. */
static void
reverb_set_param(void *self, unsigned index, float value)
{
	struct reverb *r = self;

	switch (index) {
	case REVERB_DECAY:
		r->decay = clampf(value, 0.1f, 30.0f);
		r->shelf_dirty = 1;
		break;
	case REVERB_DAMPING:
		r->damping = clampf(value, 0.05f, 1.0f);
		r->shelf_dirty = 1;
		break;
	case REVERB_SIZE:              /* taken at the next tick */
		r->size_set = clampf(value, REVERB_MIN_SIZE, REVERB_MAX_SIZE);
		r->size_pending = 1;
		break;
	case REVERB_PREDELAY:
		r->pre_target = (double)clampf(value, 0.0f, REVERB_MAX_PREDELAY) *
		    r->rate;
		if (r->pre_target < 1.0)
			r->pre_target = 1.0;
		break;
	case REVERB_WIDTH:
		smoother_set(&r->width, clampf(value, 0.0f, 1.0f));
		break;
	case REVERB_MIX:
		smoother_set(&r->mix, clampf(value, 0.0f, 1.0f));
		break;
	default:
		return;
	}
	if (!r->running)            /* before the first block: no glide */
		reverb_snap(r);
}

/* Prepare zeroed state of reverb_size_for_rate(rate) bytes: defaults,
 * silent lines, LFO phases from `seed`. */
static void
reverb_init(void *self, float rate, uint32_t seed)
{
	struct reverb *r = self;
	struct reverb_layout lay;
	uint64_t rng = rng_seed(seed);
	uint64_t lrng = rng_seed(REVERB_LAYOUT_SEED);
	/* unit power in each output; the input's power in the lines that of
	 * 8 lines at 1 */
	const float tap_w = 1.0f / sqrtf((float)REVERB_LINES);
	const float inj_w = sqrtf(8.0f / (float)REVERB_LINES);
	unsigned off;

	reverb_layout(rate, &lay);
	r->rate = rate;
	r->line_mask = lay.line_len - 1;
	r->pre_mask = lay.pre_len - 1;
	r->line_stride = lay.line_len + REVERB_GUARD;
	off = r->line_stride * REVERB_LINES;
	for (unsigned c = 0; c < 2; c++) {
		r->pre_off[c] = off;
		off += lay.pre_len + REVERB_GUARD;
	}
	r->inj_mask = lay.inj_len - 1;
	for (unsigned c = 0; c < 2; c++) {
		r->inj_off[c] = off;
		off += lay.inj_len;
	}
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < REVERB_AP; k++) {
			r->ap[c][k].off = off;
			r->ap[c][k].len = lay.ap_len[c][k];
			r->ap[c][k].idx = 0;
			r->ap[c][k].gain = reverb_ap_gain[k];
			off += lay.ap_len[c][k];
		}
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		r->base[i] = lay.base[i];
		for (unsigned c = 0; c < 2; c++) {
			float u = 0.5f + 0.5f * rng_uniform(&lrng);
			float t = REVERB_TAP_MIN_MS + u * (REVERB_TAP_MAX_MS -
			    REVERB_TAP_MIN_MS);
			r->tap[c][i] = (unsigned)lrintf(t * 0.001f * rate);
			r->tap_gain[c][i] = tap_w * (rng_next(&lrng) >> 63 ? 1.0f : -1.0f);
			u = 0.5f + 0.5f * rng_uniform(&lrng);
			r->inj[c][i] = (unsigned)lrintf(u * REVERB_INJ_MAX_MS * 0.001f *
			    rate);
			r->inj_gain[c][i] = inj_w * (rng_next(&lrng) >> 63 ? 1.0f : -1.0f);
		}
	}
	for (unsigned j = 0; j < REVERB_PAIRS; j++) {
		double ph = 2.0 * DSP_PI * (double)rng_uniform(&rng);
		double hz = REVERB_ROT_HZ * pow(REVERB_ROT_STEP, (double)j);
		double w = 2.0 * DSP_PI * hz * REVERB_TICK / rate;
		r->lfo_c[j] = (float)cos(ph);
		r->lfo_s[j] = (float)sin(ph);
		r->rot_c[j] = (float)cos(w);
		r->rot_s[j] = (float)sin(w);
		reverb_rotation(r, j, &r->cs1[j], &r->sn1[j]);
	}
	r->xover_k = 1.0f / tanf((float)DSP_PI *
	    fminf(REVERB_XOVER_HZ, 0.4f * rate) / rate);
	r->decay = reverb_params[REVERB_DECAY].def;
	r->damping = reverb_params[REVERB_DAMPING].def;
	r->shelf_coef = 1.0f - expf(-2.0f / (SMOOTH_SECONDS * rate));
	r->size_set = reverb_params[REVERB_SIZE].def;
	r->u_coef = 1.0 - exp(-1.0 / (REVERB_SIZE_SMOOTH * rate));
	smoother_init(&r->width, reverb_params[REVERB_WIDTH].def, rate,
	    SMOOTH_SECONDS);
	smoother_init(&r->mix, reverb_params[REVERB_MIX].def, rate,
	    SMOOTH_SECONDS);
	r->pre_target = (double)reverb_params[REVERB_PREDELAY].def * rate;
	r->pre_coef = 1.0 - exp(-2.0 / (REVERB_PREDELAY_SMOOTH * rate));
	reverb_snap(r);
}

/* Fill t[0..TICK) with smoother s advanced one sample per entry, snapping
 * to the target once float rounding stalls the approach. */
static void
reverb_smooth_tick(struct smoother *s, float *t)
{
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float prev = s->cur;
		float v = s->cur + (s->target - s->cur) * s->coef;
		if (v == prev)
			v = s->target;
		s->cur = v;
		t[n] = v;
	}
}

/* At the start of each tick: compute this tick's per-sample controls
 * (size glide, predelay, width, mix, wet gain), the shelves' targets when
 * they moved, and the rotations' ramps. */
static void
reverb_control(struct reverb *r)
{
	/* size: a new target starts the glide over from where it is */
	if (r->size_pending) {
		r->size += (r->size_target - r->size) * (float)r->u;
		r->size_target = r->size_set;
		r->size_pending = 0;
		reverb_aim_size(r);
	}
	/* a one-pole glide of u toward 1, slew-limited */
	r->gliding = r->u < 1.0;
	if (r->gliding) {
		double u = r->u;
		for (unsigned n = 0; n < REVERB_TICK; n++) {
			double step = (1.0 - u) * r->u_coef;
			u += step < r->u_max_step ? step : r->u_max_step;
			if (1.0 - u < REVERB_SETTLED)
				u = 1.0;
			r->u_t[n] = u;
		}
		r->u = u;
		r->shelf_dirty = 1;
		if (u == 1.0)
			for (unsigned i = 0; i < REVERB_LINES; i++)
				r->delay[i] = (unsigned)r->to[i];
	} else {
		for (unsigned i = 0; i < REVERB_LINES; i++)
			r->delay[i] = (unsigned)r->to[i];
	}
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float s = r->size + (r->size_target - r->size) *
		    (float)(r->gliding ? r->u_t[n] : 1.0);
		r->gain_t[n] = REVERB_WET_GAIN * sqrtf(s);
	}

	/* shelves: new targets when anything they follow moved */
	if (r->shelf_dirty) {
		reverb_shelf_targets(r, r->u);
		r->shelf_dirty = 0;
		r->shelf_moving = 1;
	} else if (r->shelf_moving) {
		float far = 0;
		for (unsigned i = 0; i < REVERB_LINES; i++) {
			far = fmaxf(far, fabsf(r->b0[i] - r->tb0[i]));
			far = fmaxf(far, fabsf(r->b1[i] - r->tb1[i]));
			far = fmaxf(far, fabsf(r->a1[i] - r->ta1[i]));
			far = fmaxf(far, fabsf(r->mb0[i] - r->tb0[i]));
			far = fmaxf(far, fabsf(r->mb1[i] - r->tb1[i]));
			far = fmaxf(far, fabsf(r->ma1[i] - r->ta1[i]));
		}
		if (far < 1e-8f) {        /* settled: -160 dB, snap */
			for (unsigned i = 0; i < REVERB_LINES; i++) {
				r->b0[i] = r->mb0[i] = r->tb0[i];
				r->b1[i] = r->mb1[i] = r->tb1[i];
				r->a1[i] = r->ma1[i] = r->ta1[i];
			}
			r->shelf_moving = 0;
		}
	}

	/* predelay */
	/* predelay: two one-poles in series, so that the read point's speed
	 * (the pitch of the glide) has no step either */
	r->pre_moving = r->pre != r->pre_target;
	if (r->pre_moving) {
		double p = r->pre, q = r->pre_mid;
		for (unsigned n = 0; n < REVERB_TICK; n++) {
			q += (r->pre_target - q) * r->pre_coef;
			p += (q - p) * r->pre_coef;
			if (fabs(r->pre_target - p) < 1e-6 &&
			    fabs(r->pre_target - q) < 1e-6)
				p = q = r->pre_target;
			r->pre_t[n] = p;
		}
		r->pre = p;
		r->pre_mid = q;
	}

	reverb_smooth_tick(&r->width, r->width_t);
	reverb_smooth_tick(&r->mix, r->mix_t);

	/* rotations: from where the last tick ended to the LFOs' next step */
	for (unsigned j = 0; j < REVERB_PAIRS; j++) {
		float c = r->lfo_c[j], s = r->lfo_s[j];
		float nc = c * r->rot_c[j] - s * r->rot_s[j];
		float ns = s * r->rot_c[j] + c * r->rot_s[j];
		float g = 1.5f - 0.5f * (nc * nc + ns * ns);  /* stay on the circle */
		r->cs0[j] = r->cs1[j];
		r->sn0[j] = r->sn1[j];
		r->lfo_c[j] = nc * g;
		r->lfo_s[j] = ns * g;
		reverb_rotation(r, j, &r->cs1[j], &r->sn1[j]);
		r->dcs[j] = (r->cs1[j] - r->cs0[j]) * (1.0f / REVERB_TICK);
		r->dsn[j] = (r->sn1[j] - r->sn0[j]) * (1.0f / REVERB_TICK);
	}
}

/* 4-point Lagrange weights for a read d in [0, 1) samples past the second
 * tap (the taps lie 1 sample nearer, at, and 1 and 2 samples farther). */
static inline void
reverb_lagrange(float d, float h[4])
{
	float dm1 = d - 1.0f, dm2 = d - 2.0f, dp1 = d + 1.0f;

	h[0] = d * dm1 * dm2 * (-1.0f / 6.0f);
	h[1] = dp1 * dm1 * dm2 * 0.5f;
	h[2] = dp1 * d * dm2 * -0.5f;
	h[3] = dp1 * d * dm1 * (1.0f / 6.0f);
}

/* Write k frames of input (x[0], x[1]) to the predelay, read them back
 * `pre` samples later (interpolated, gliding) plus the floor into d[0],
 * d[1]. */
static void
reverb_predelay(struct reverb *r, float (*x)[REVERB_TICK],
    float (*d)[REVERB_TICK], unsigned k)
{
	float *bl = r->mem + r->pre_off[0], *br = r->mem + r->pre_off[1];
	unsigned mask = r->pre_mask, pw = r->pw;
	float h[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
	unsigned di = 1;

	for (unsigned n = 0; n < k; n++) {
		unsigned j = (pw + n) & mask;
		bl[j] = x[0][n];
		br[j] = x[1][n];
		if (j < REVERB_GUARD) {
			bl[mask + 1 + j] = x[0][n];
			br[mask + 1 + j] = x[1][n];
		}
	}
	if (!r->pre_moving) {                 /* settled: fixed weights */
		di = (unsigned)r->pre;
		reverb_lagrange((float)(r->pre - di), h);
	}
	for (unsigned n = 0; n < k; n++) {
		if (r->pre_moving) {
			double p = r->pre_t[r->phase + n];
			di = (unsigned)p;
			reverb_lagrange((float)(p - di), h);
		}
		unsigned at = (pw + n - di - 2) & mask; /* tap at delay di + 2 */
		const float *a = bl + at, *b = br + at;
		d[0][n] = REVERB_FLOOR + h[3] * a[0] + h[2] * a[1] + h[1] * a[2] +
		    h[0] * a[3];
		d[1][n] = REVERB_FLOOR + h[3] * b[0] + h[2] * b[1] + h[1] * b[2] +
		    h[0] * b[3];
	}
	r->pw = (pw + k) & mask;
}

/* A whole tick of samples through an allpass whose ring does not wrap
 * within it: p is the ring at the read/write point. */
static inline void
reverb_allpass_tick(float *restrict p, float *restrict x, float g)
{
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float d = p[n];
		float v = x[n] + g * d;
		p[n] = v;
		x[n] = d - g * v;
	}
}

/* Run k samples of x through allpass `a` of the diffuser, in place. */
static void
reverb_allpass(float *mem, struct reverb_ap *a, float *x, unsigned k)
{
	float *buf = mem + a->off;
	float g = a->gain;
	unsigned idx = a->idx;

	if (k == REVERB_TICK && idx + REVERB_TICK <= a->len) {
		reverb_allpass_tick(buf + idx, x, g);
		idx += REVERB_TICK;
		a->idx = idx == a->len ? 0 : idx;
		return;
	}
	for (unsigned n = 0; n < k; n++) {
		float d = buf[idx];
		float v = x[n] + g * d;
		buf[idx] = v;
		x[n] = d - g * v;
		if (++idx == a->len)
			idx = 0;
	}
	a->idx = idx;
}

/* Read k samples of line i into v: at its settled whole-sample delay, or,
 * while the size glides, interpolated at the gliding delay.  A chunk never
 * reaches samples it writes itself. */
static void
reverb_read_line(const struct reverb *r, unsigned i, unsigned k, float *v)
{
	const float *buf = r->mem + (size_t)i * r->line_stride;
	unsigned mask = r->line_mask;

	if (!r->gliding) {
		unsigned at = (r->w - r->delay[i]) & mask;
		if (at + k <= mask + 1) {
			memcpy(v, buf + at, k * sizeof(float));
			return;
		}
		for (unsigned n = 0; n < k; n++)
			v[n] = buf[(at + n) & mask];
		return;
	}
	for (unsigned n = 0; n < k; n++) {
		double p = reverb_line_delay(r, i, r->u_t[r->phase + n]);
		unsigned ip = (unsigned)p;
		float h[4];
		reverb_lagrange((float)(p - ip), h);
		const float *x = buf + ((r->w + n - ip - 2) & mask);
		v[n] = h[3] * x[0] + h[2] * x[1] + h[1] * x[2] + h[0] * x[3];
	}
}

/* Two stages of the Hadamard transform at once (h and 2h) over lines
 * a, b, c, d = j, j + h, j + 2h, j + 3h. */
static inline void
reverb_butterfly4(float *restrict a, float *restrict b, float *restrict c,
    float *restrict d)
{
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float p = a[n] + b[n], q = a[n] - b[n];
		float u = c[n] + d[n], w = c[n] - d[n];
		a[n] = p + u;
		b[n] = q + w;
		c[n] = p - u;
		d[n] = q - w;
	}
}

/* The last Hadamard stage of the pair a, b, then its turn by the rotation
 * ramp c0 + t dc, s0 + t ds, where t = t0 + n. */
static inline void
reverb_turn(float *restrict a, float *restrict b, float c0, float dc,
    float s0, float ds, float t0)
{
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float t = t0 + (float)n;
		float c = c0 + t * dc, s = s0 + t * ds;
		float x = a[n] + b[n], y = a[n] - b[n];
		a[n] = c * x - s * y;
		b[n] = s * x + c * y;
	}
}

/* dst[n][i] = src[i][n] over the square block of lines by tick samples
 * (4 by 4 in vector registers where SSE is there). */
static void
reverb_transpose(const float (*restrict src)[REVERB_TICK],
    float (*restrict dst)[REVERB_TICK])
{
#if defined(__SSE__) || defined(__x86_64__)
	for (unsigned i = 0; i < REVERB_LINES; i += 4)
		for (unsigned n = 0; n < REVERB_TICK; n += 4) {
			__m128 a = _mm_loadu_ps(&src[i][n]);
			__m128 b = _mm_loadu_ps(&src[i + 1][n]);
			__m128 c = _mm_loadu_ps(&src[i + 2][n]);
			__m128 d = _mm_loadu_ps(&src[i + 3][n]);
			_MM_TRANSPOSE4_PS(a, b, c, d);
			_mm_storeu_ps(&dst[n][i], a);
			_mm_storeu_ps(&dst[n + 1][i], b);
			_mm_storeu_ps(&dst[n + 2][i], c);
			_mm_storeu_ps(&dst[n + 3][i], d);
		}
#else
	for (unsigned i = 0; i < REVERB_LINES; i++)
		for (unsigned n = 0; n < REVERB_TICK; n++)
			dst[n][i] = src[i][n];
#endif
}

/* The decay shelves over k samples of the lines, in place: N independent
 * recursions, sample by sample, coefficients gliding when moving.  The
 * block is turned so that each sample's lines lie side by side: the
 * recursions then run across the lines in vector lanes. */
static void
reverb_shelves(struct reverb *r, float (*v)[REVERB_TICK], unsigned k)
{
	float t[REVERB_TICK][REVERB_LINES];
	float b0[REVERB_LINES], b1[REVERB_LINES], a1[REVERB_LINES];
	float z[REVERB_LINES];

	reverb_transpose((const float (*)[REVERB_TICK])v, t);
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		b0[i] = r->b0[i];
		b1[i] = r->b1[i];
		a1[i] = r->a1[i];
		z[i] = r->z[i];
	}
	if (r->shelf_moving) {
		float c = r->shelf_coef;
		for (unsigned n = 0; n < k; n++)
			for (unsigned i = 0; i < REVERB_LINES; i++) {
				r->mb0[i] += (r->tb0[i] - r->mb0[i]) * c;
				r->mb1[i] += (r->tb1[i] - r->mb1[i]) * c;
				r->ma1[i] += (r->ta1[i] - r->ma1[i]) * c;
				b0[i] += (r->mb0[i] - b0[i]) * c;
				b1[i] += (r->mb1[i] - b1[i]) * c;
				a1[i] += (r->ma1[i] - a1[i]) * c;
				float in = t[n][i];
				float y = b0[i] * in + z[i];
				z[i] = b1[i] * in - a1[i] * y;
				t[n][i] = y;
			}
		for (unsigned i = 0; i < REVERB_LINES; i++) {
			r->b0[i] = b0[i];
			r->b1[i] = b1[i];
			r->a1[i] = a1[i];
		}
	} else {
		for (unsigned n = 0; n < k; n++)
			for (unsigned i = 0; i < REVERB_LINES; i++) {
				float in = t[n][i];
				float y = b0[i] * in + z[i];
				z[i] = b1[i] * in - a1[i] * y;
				t[n][i] = y;
			}
	}
	for (unsigned i = 0; i < REVERB_LINES; i++)
		r->z[i] = z[i];
	reverb_transpose((const float (*)[REVERB_TICK])t, v);
}

/* y[0..TICK) += g x[0..TICK): separate arrays and a fixed count, so the
 * loop vectorises (entries past a short chunk are never used). */
static inline void
reverb_madd(float *restrict y, const float *restrict x, float g)
{
	for (unsigned n = 0; n < REVERB_TICK; n++)
		y[n] += g * x[n];
}

/* Write k samples of the diffused input d[0], d[1] to the injection
 * rings, and add to each line's v its two channels, each read from the
 * line's own distance behind the write point. */
static void
reverb_inject(struct reverb *r, float (*d)[REVERB_TICK],
    float (*v)[REVERB_TICK], unsigned k)
{
	unsigned mask = r->inj_mask, iw = r->iw;

	for (unsigned c = 0; c < 2; c++) {
		float *buf = r->mem + r->inj_off[c];
		for (unsigned n = 0; n < k; n++)
			buf[(iw + n) & mask] = d[c][n];
		for (unsigned i = 0; i < REVERB_LINES; i++) {
			float g = r->inj_gain[c][i];
			unsigned at = (iw - r->inj[c][i]) & mask;
			if (at + REVERB_TICK <= mask + 1) {
				reverb_madd(v[i], buf + at, g);
			} else {
				for (unsigned n = 0; n < k; n++)
					v[i][n] += g * buf[(at + n) & mask];
			}
		}
	}
	r->iw = (iw + k) & mask;
}

/* Sum output c's taps over k samples into y (after this chunk's write). */
static void
reverb_taps(const struct reverb *r, unsigned c, unsigned k, float *y)
{
	unsigned mask = r->line_mask;

	for (unsigned n = 0; n < REVERB_TICK; n++)
		y[n] = 0.0f;
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		const float *buf = r->mem + (size_t)i * r->line_stride;
		float g = r->tap_gain[c][i];
		unsigned at = (r->w - r->tap[c][i]) & mask;
		if (at + REVERB_TICK <= mask + 1) {
			reverb_madd(y, buf + at, g);
		} else {
			for (unsigned n = 0; n < k; n++)
				y[n] += g * buf[(at + n) & mask];
		}
	}
}

/* Process k frames (within one tick) from xl, xr (NULL: silence) into
 * yl, yr.  The lines are held line by line (v[i][n]), so the Hadamard
 * transform runs across samples. */
static void
reverb_run(struct reverb *r, const float *xl, const float *xr, float *yl,
    float *yr, unsigned k)
{
	float x[2][REVERB_TICK], d[2][REVERB_TICK], o[2][REVERB_TICK];
	float v[REVERB_LINES][REVERB_TICK];
	unsigned mask = r->line_mask, w = r->w, ph = r->phase;

	for (unsigned n = 0; n < REVERB_TICK; n++) {
		x[0][n] = xl != NULL && n < k ? xl[n] : 0.0f;
		x[1][n] = xr != NULL && n < k ? xr[n] : 0.0f;
	}
	reverb_predelay(r, x, d, k);
	for (unsigned n = k; n < REVERB_TICK; n++)
		d[0][n] = d[1][n] = 0.0f;
	for (unsigned a = 0; a < REVERB_AP; a++) {
		reverb_allpass(r->mem, &r->ap[0][a], d[0], k);
		reverb_allpass(r->mem, &r->ap[1][a], d[1], k);
	}
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		reverb_read_line(r, i, k, v[i]);
		for (unsigned n = k; n < REVERB_TICK; n++)
			v[i][n] = 0.0f;
	}
	reverb_shelves(r, v, k);

	/* Hadamard mix: a fast Walsh-Hadamard transform across the lines,
	 * stages 2 and 4, 8 and 16 two at a time, then stage 1 with the
	 * modulation: each pair turns by its slowly swinging angle */
	for (unsigned h = 2; h < REVERB_LINES; h <<= 2)
		for (unsigned i = 0; i < REVERB_LINES; i += 4 * h)
			for (unsigned j = i; j < i + h; j++)
				reverb_butterfly4(v[j], v[j + h], v[j + 2 * h],
				    v[j + 3 * h]);
	for (unsigned j = 0; j < REVERB_PAIRS; j++)
		reverb_turn(v[2 * j], v[2 * j + 1], r->cs0[j], r->dcs[j],
		    r->sn0[j], r->dsn[j], (float)ph);

	/* feed back with the input, keeping the guard copies */
	reverb_inject(r, d, v, k);
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float *buf = r->mem + (size_t)i * r->line_stride;
		if (w + k <= mask + 1) {
			memcpy(buf + w, v[i], k * sizeof(float));
			if (w < REVERB_GUARD)
				memcpy(buf + mask + 1, buf, REVERB_GUARD * sizeof(float));
			continue;
		}
		for (unsigned n = 0; n < k; n++) {
			unsigned j = (w + n) & mask;
			float y = v[i][n];
			buf[j] = y;
			if (j < REVERB_GUARD)
				buf[mask + 1 + j] = y;
		}
	}

	/* wet outputs: the diffused input and the taps */
	reverb_taps(r, 0, k, o[0]);
	reverb_taps(r, 1, k, o[1]);
	const float direct = REVERB_WET_GAIN * REVERB_DIRECT;
	for (unsigned n = 0; n < k; n++) {
		float width = r->width_t[ph + n];
		float mix = r->mix_t[ph + n];
		float gain = r->gain_t[ph + n];
		float wl = direct * d[0][n] + gain * o[0][n];
		float wr = direct * d[1][n] + gain * o[1][n];
		float mid = 0.5f * (wl + wr), side = 0.5f * width * (wl - wr);
		yl[n] = (1.0f - mix) * x[0][n] + mix * (mid + side);
		yr[n] = (1.0f - mix) * x[1][n] + mix * (mid - side);
	}
	r->w = (w + k) & mask;
}

/* Reverberate the left and right inputs (a single connected input feeds
 * both) into the left and right outputs. */
static void
reverb_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct reverb *r = self;
	const float *inl = in[REVERB_IN_L], *inr = in[REVERB_IN_R];

	if (inl == NULL)
		inl = inr;
	if (inr == NULL)
		inr = inl;
	r->running = 1;
	for (unsigned done = 0; done < frames;) {
		unsigned k = REVERB_TICK - r->phase;

		if (r->phase == 0)
			reverb_control(r);
		if (k > frames - done)
			k = frames - done;
		reverb_run(r, inl != NULL ? inl + done : NULL,
		    inr != NULL ? inr + done : NULL, out[REVERB_OUT_L] + done,
		    out[REVERB_OUT_R] + done, k);
		r->phase = (r->phase + k) % REVERB_TICK;
		done += k;
	}
}

static const struct port_desc reverb_inputs[REVERB_N_IN] = {
	[REVERB_IN_L] = { "left", "audio in [-1, 1]; alone (mono) it feeds both sides" },
	[REVERB_IN_R] = { "right", "audio in [-1, 1]; alone it feeds both sides" },
};

static const struct port_desc reverb_outputs[REVERB_N_OUT] = {
	[REVERB_OUT_L] = { "left", "audio: dry/wet mix, left" },
	[REVERB_OUT_R] = { "right", "audio: dry/wet mix, right" },
};

const struct module_type reverb_module = {
	.name = "reverb",
	.help = "stereo algorithmic reverb: 32-line feedback delay network, T60 per band",
	.size = sizeof(struct reverb),
	.size_for_rate = reverb_size_for_rate,
	.inputs = reverb_inputs,
	.n_inputs = REVERB_N_IN,
	.outputs = reverb_outputs,
	.n_outputs = REVERB_N_OUT,
	.params = reverb_params,
	.n_params = REVERB_N_P,
	.init = reverb_init,
	.set_param = reverb_set_param,
	.process = reverb_process,
};
