/*
 * dsp/reverb.c — algorithmic stereo reverb: a feedback delay network (FDN)
 * of 8 lines with a Hadamard feedback matrix, fed through a predelay and
 * input diffusion allpasses.
 *
 * Signal flow:
 *
 *   left, right -> predelay (interpolated, glides) -> 4 allpasses per
 *   channel -> injected into the even (left) and odd (right) lines ->
 *   each line: modulated interpolated read -> two-band decay shelf ->
 *   Hadamard mix (fast Walsh-Hadamard transform) -> written back.
 *   The wet left and right are the mix's outputs for lines 1 and 2 (two
 *   orthogonal sign patterns over all the lines) plus the diffused input
 *   of the same side; width scales their side part; mix crossfades.
 *
 * Decay.  The line lengths are distinct primes at size 1 (29..68 ms),
 * scaled by `size` (their ratios stay those of the primes).  A line of L
 * samples takes a first-order shelf whose gain is g_lo = 10^(-3 L / (fs T))
 * at DC and g_hi = 10^(-3 L / (fs T damping)) at Nyquist, with the geometric
 * mean of the two at the 4 kHz crossover (bilinear, prewarped there).  As
 * the matrix is orthogonal and every loop loses exactly its length times
 * the same dB per sample, every mode decays at the set T60 below the
 * crossover (damping 1: at all frequencies); at the crossover the rate of
 * decay in dB/s is the mean of the two, so T60(4 kHz) = decay * 2 d / (1 + d)
 * for damping d.  The extra high-frequency loss is capped at 60 dB per pass
 * (only the shortest decays with strong damping at large sizes reach it).
 *
 * Modulation.  Each line's read point swings by 3 samples (at 48 kHz; 62.5
 * us) at its own slow rate (0.41..1.19 Hz, phases from the init seed), read
 * by 4-point Lagrange interpolation: at most 0.001 dB of loss per pass at
 * 2 kHz, so the decay of the bands that matter is not shortened.
 *
 * Controls run on a tick of 32 samples, counted in samples so that the
 * output does not depend on the block size: each tick advances the
 * smoothers (decay, damping, width, mix: SMOOTH_SECONDS; predelay: 50 ms;
 * size: 200 ms, slew-limited so that its pitch glide stays under a
 * semitone), the LFOs and, when decay, damping or size moved, the shelves;
 * within the tick the read points, predelay, width, mix and gain ramp
 * linearly.
 *
 * Processing.  A chunk (at most one tick) is never longer than the
 * shortest line, so the lines are read for the whole chunk first, then
 * filtered, mixed and written back.  They are held line by line, so the
 * Hadamard butterflies, the interpolation weights and most reads are loops
 * over the chunk's samples that the compiler vectorises.
 *
 * Subnormals.  A constant 1e-20 is added to the diffuser input: the network
 * settles on a tiny normal-range floor (about -400 dB) instead of decaying
 * into subnormal numbers, so a tail in silence costs the same without FTZ.
 *
 * Buffers are sized from the rate (size_for_rate): lines for size 2 plus
 * the modulation, 0.5 s of predelay per channel, the allpasses.  Offsets,
 * not pointers, locate them in the state, which the engine may map at a
 * different address in another process.
 */
#include <math.h>
#include <string.h>

#include "dsp_util.h"
#include "module.h"
#include "wavetable.h"

#define REVERB_LINES 8
#define REVERB_AP 4                 /* allpasses per channel */
#define REVERB_TICK 32              /* samples per control update */
#define REVERB_MIN_SIZE 0.3f
#define REVERB_MAX_SIZE 2.0f
#define REVERB_MAX_PREDELAY 0.5f    /* s */
#define REVERB_MOD_DEPTH 62.5e-6f   /* s, peak: 3 samples at 48 kHz */
#define REVERB_XOVER_HZ 4000.0f     /* shelf crossover, Hz */
/* Cap of the extra HF loss per pass, log2 of sqrt(g_lo / g_hi): 60 dB. */
#define REVERB_MAX_HF_HALF 4.98f
#define REVERB_SIZE_SMOOTH 0.2f     /* s, time constant of size changes */
/* Fastest size glide: the longest line's read point moves at most this
 * many samples per sample (a pitch bend under a semitone). */
#define REVERB_SIZE_SLEW 0.05f
#define REVERB_PREDELAY_SMOOTH 0.05f /* s */
#define REVERB_FLOOR 1e-20f         /* constant added against subnormals */
#define REVERB_MARGIN 8             /* samples beyond the longest read */
/* Each line's ring is followed by copies of its first samples, so the
 * interpolator's 4 taps are always contiguous (16 bytes keep alignment). */
#define REVERB_GUARD 4
/* Wet gain of the lines at size 1, scaled by sqrt(size) so that the level
 * hardly follows the size: white noise comes out of a 2 s tail about 1 dB
 * down. */
#define REVERB_WET_GAIN 0.7f
/* Gain of the diffused input in the wet output, relative to the lines'. */
#define REVERB_DIRECT 0.7f
/* The wet outputs: the feedback into these two lines (rows of the
 * Hadamard matrix, so orthogonal sign patterns over all the lines). */
#define REVERB_TAP_L 1
#define REVERB_TAP_R 2
/* log2 of the amplitude lost per second for a T60 of 1 s: 60 dB. */
#define REVERB_LOG2_60DB 9.965784285f

enum { REVERB_IN_L, REVERB_IN_R, REVERB_N_IN };
enum { REVERB_OUT_L, REVERB_OUT_R, REVERB_N_OUT };
enum {
	REVERB_DECAY, REVERB_SIZE, REVERB_DAMPING, REVERB_PREDELAY,
	REVERB_WIDTH, REVERB_MIX, REVERB_N_P
};

/* Line lengths at size 1, ms; each becomes the next unused prime. */
static const float reverb_line_ms[REVERB_LINES] = {
	29.0f, 33.7f, 38.9f, 43.6f, 49.1f, 54.7f, 60.3f, 67.9f
};

/* LFO rate of each line, Hz. */
static const float reverb_lfo_hz[REVERB_LINES] = {
	0.41f, 0.53f, 0.67f, 0.79f, 0.89f, 0.97f, 1.07f, 1.19f
};

/* Signs of the input injected into each line (even lines: left). */
static const float reverb_in_sign[REVERB_LINES] = {
	1, 1, -1, 1, 1, -1, -1, -1
};

/* Diffuser allpasses: lengths in ms per channel, and gains. */
static const float reverb_ap_ms[2][REVERB_AP] = {
	{ 4.771f, 3.595f, 12.735f, 9.307f },
	{ 4.513f, 3.833f, 13.411f, 8.931f },
};
static const float reverb_ap_gain[REVERB_AP] = { 0.75f, 0.75f, 0.625f, 0.625f };

/* One Schroeder allpass of the input diffusion. */
struct reverb_ap {
	unsigned off;       /* start in mem[], floats */
	unsigned len;       /* delay, samples */
	unsigned idx;       /* read/write position in [0, len) */
	float gain;
};

/* A control value over one tick: start + t * step at sample t of the
 * tick, reaching `end` at the next tick. */
struct reverb_ramp {
	float start, step, end;
};

/* Where everything lives in mem[], at one rate. */
struct reverb_layout {
	float base[REVERB_LINES];      /* line lengths at size 1, samples */
	unsigned line_len;             /* per-line ring, a power of two */
	unsigned pre_len;              /* per-channel predelay, a power of two */
	unsigned ap_len[2][REVERB_AP]; /* samples */
	size_t total;                  /* floats */
};

struct reverb {
	float rate;
	unsigned line_mask;            /* line ring length - 1 */
	unsigned line_stride;          /* floats from one line to the next */
	unsigned pre_mask;             /* predelay buffer length - 1 */
	unsigned pre_off[2];           /* predelay buffers in mem[] */
	unsigned w;                    /* line write index */
	unsigned pw;                   /* predelay write index */
	unsigned phase;                /* samples into the current tick */
	float base[REVERB_LINES];      /* line lengths at size 1, samples */
	/* read points: at sample t of the tick, pint + f0 + t * dpos samples
	 * back (f0 in [2, 3): the fraction stays positive through the tick) */
	double pos_end[REVERB_LINES];  /* at the next tick, samples */
	int pint[REVERB_LINES];
	float f0[REVERB_LINES];         /* samples */
	float dpos[REVERB_LINES];      /* samples per sample */
	float lfo_c[REVERB_LINES];     /* quadrature LFOs: cos, sin */
	float lfo_s[REVERB_LINES];
	float rot_c[REVERB_LINES];     /* their rotation per tick */
	float rot_s[REVERB_LINES];
	float depth;                   /* modulation, samples peak */
	float b0[REVERB_LINES];        /* shelves, transposed direct form II, */
	float b1[REVERB_LINES];        /* with the Hadamard's 1/sqrt(8) in b */
	float a1[REVERB_LINES];
	float z[REVERB_LINES];         /* shelf states */
	float xover_k;                 /* 1 / tan(pi fc / fs) */
	float decay;                   /* parameter values, s and ratio */
	float damping;
	struct smoother k_lo;          /* log2 amplitude lost per s, below */
	struct smoother k_hi;          /* and above the crossover */
	float size, size_target;       /* 0.3..2 */
	float size_coef;               /* fraction of the distance per tick */
	float size_max_step;           /* per tick, REVERB_SIZE_SLEW */
	double pre_end, pre_target;    /* predelay, samples (>= 1) */
	double pre_start, pre_step;    /* this tick: start + t * step */
	double pre_coef;               /* fraction of the distance per tick */
	struct smoother width;         /* 0..1, tick rate */
	struct smoother mix;           /* 0 dry .. 1 wet, tick rate */
	struct reverb_ramp width_ramp;
	struct reverb_ramp mix_ramp;
	struct reverb_ramp gain_ramp;  /* REVERB_WET_GAIN * sqrt(size) */
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
	    .help = "scale of the delay lines (1: 29..68 ms); changes glide (200 ms, pitch bend < 1 semitone)" },
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

/* smoother_next, snapping to the target once float rounding stalls the
 * approach (as in delay.c). */
static inline float
reverb_smooth(struct smoother *s)
{
	float prev = s->cur;
	float v = smoother_next(s);

	if (v == prev)
		v = s->cur = s->target;
	return v;
}

/* Start the next tick of ramp `r` from where the last ended, toward `end`. */
static inline void
reverb_ramp_to(struct reverb_ramp *r, float end)
{
	r->start = r->end;
	r->end = end;
	r->step = (end - r->start) * (1.0f / REVERB_TICK);
}

/* Hold ramp `r` at `v`. */
static inline void
reverb_ramp_snap(struct reverb_ramp *r, float v)
{
	r->start = r->end = v;
	r->step = 0.0f;
}

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
		unsigned n = (unsigned)lrintf(reverb_line_ms[i] * 0.001f * rate);
		if (n <= prev)
			n = prev + 1;
		while (!reverb_is_prime(n))
			n++;
		lay->base[i] = (float)n;
		prev = n;
	}
	longest = (unsigned)ceilf(lay->base[REVERB_LINES - 1] * REVERB_MAX_SIZE +
	    REVERB_MOD_DEPTH * rate) + REVERB_MARGIN;
	lay->line_len = reverb_pow2(longest);
	lay->pre_len = reverb_pow2((unsigned)ceilf(REVERB_MAX_PREDELAY * rate) +
	    REVERB_TICK + REVERB_MARGIN);
	lay->total = (size_t)(lay->line_len + REVERB_GUARD) * REVERB_LINES +
	    (size_t)(lay->pre_len + REVERB_GUARD) * 2;
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

/* Set the decay targets (log2 amplitude per second below and above the
 * crossover) from the decay and damping parameters. */
static void
reverb_decay_targets(struct reverb *r)
{
	float k = REVERB_LOG2_60DB / r->decay;

	smoother_set(&r->k_lo, k);
	smoother_set(&r->k_hi, k / r->damping);
}

/* Recompute each line's shelf from the current decay rates and size:
 * DC gain g_lo = 2^(-k_lo L / fs), Nyquist gain g_hi = 2^(-k_hi L / fs),
 * sqrt(g_lo g_hi) at the crossover, L the line's mean length. */
static void
reverb_shelves(struct reverb *r)
{
	const float hadamard = 1.0f / sqrtf((float)REVERB_LINES);
	float lo = r->k_lo.cur * r->size / r->rate;
	float hi = r->k_hi.cur * r->size / r->rate;
	float kn = r->xover_k;

	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float e_lo = lo * r->base[i];
		float half = 0.5f * (hi - lo) * r->base[i];  /* -log2 sqrt(r) */
		if (half > REVERB_MAX_HF_HALF)
			half = REVERB_MAX_HF_HALF;
		float g = exp2f(-e_lo) * hadamard;
		float sr = exp2f(-half);                 /* sqrt(g_hi / g_lo) */
		float ia0 = 1.0f / (1.0f + kn / sr);
		r->b0[i] = g * (1.0f + kn * sr) * ia0;
		r->b1[i] = g * (1.0f - kn * sr) * ia0;
		r->a1[i] = (1.0f - kn / sr) * ia0;
	}
}

/* Aim the line read points at their place for the next tick (size and
 * LFO at the tick's end); with `snap`, start there too. */
static void
reverb_aim_lines(struct reverb *r, int snap)
{
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		double end = (double)r->base[i] * r->size +
		    (double)(r->depth * r->lfo_s[i]);
		double start = snap ? end : r->pos_end[i];
		int whole = (int)start - 2;

		r->pint[i] = whole;
		r->f0[i] = (float)(start - whole);
		r->dpos[i] = (float)((end - start) * (1.0 / REVERB_TICK));
		r->pos_end[i] = end;
	}
}

/* Jump every control to its target: before the first block. */
static void
reverb_snap(struct reverb *r)
{
	r->k_lo.cur = r->k_lo.target;
	r->k_hi.cur = r->k_hi.target;
	r->width.cur = r->width.target;
	r->mix.cur = r->mix.target;
	r->size = r->size_target;
	r->pre_start = r->pre_end = r->pre_target;
	r->pre_step = 0.0;
	reverb_ramp_snap(&r->width_ramp, r->width.cur);
	reverb_ramp_snap(&r->mix_ramp, r->mix.cur);
	reverb_ramp_snap(&r->gain_ramp, REVERB_WET_GAIN * sqrtf(r->size));
	reverb_aim_lines(r, 1);
	reverb_shelves(r);
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
		reverb_decay_targets(r);
		break;
	case REVERB_DAMPING:
		r->damping = clampf(value, 0.05f, 1.0f);
		reverb_decay_targets(r);
		break;
	case REVERB_SIZE:
		r->size_target = clampf(value, REVERB_MIN_SIZE, REVERB_MAX_SIZE);
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
	float tick_rate = rate / REVERB_TICK;
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
	for (unsigned c = 0; c < 2; c++)
		for (unsigned k = 0; k < REVERB_AP; k++) {
			r->ap[c][k].off = off;
			r->ap[c][k].len = lay.ap_len[c][k];
			r->ap[c][k].idx = 0;
			r->ap[c][k].gain = reverb_ap_gain[k];
			off += lay.ap_len[c][k];
		}
	r->depth = REVERB_MOD_DEPTH * rate;
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		double ph = DSP_PI * (double)rng_uniform(&rng);
		double w = 2.0 * DSP_PI * reverb_lfo_hz[i] * REVERB_TICK / rate;
		r->base[i] = lay.base[i];
		r->lfo_c[i] = (float)cos(ph);
		r->lfo_s[i] = (float)sin(ph);
		r->rot_c[i] = (float)cos(w);
		r->rot_s[i] = (float)sin(w);
	}
	r->xover_k = 1.0f / tanf((float)DSP_PI *
	    fminf(REVERB_XOVER_HZ, 0.4f * rate) / rate);
	r->decay = reverb_params[REVERB_DECAY].def;
	r->damping = reverb_params[REVERB_DAMPING].def;
	smoother_init(&r->k_lo, 0.0f, tick_rate, SMOOTH_SECONDS);
	smoother_init(&r->k_hi, 0.0f, tick_rate, SMOOTH_SECONDS);
	reverb_decay_targets(r);
	r->size_target = reverb_params[REVERB_SIZE].def;
	r->size_coef = 1.0f - expf(-1.0f / (REVERB_SIZE_SMOOTH * tick_rate));
	r->size_max_step = REVERB_SIZE_SLEW * REVERB_TICK /
	    lay.base[REVERB_LINES - 1];
	smoother_init(&r->width, reverb_params[REVERB_WIDTH].def, tick_rate,
	    SMOOTH_SECONDS);
	smoother_init(&r->mix, reverb_params[REVERB_MIX].def, tick_rate,
	    SMOOTH_SECONDS);
	r->pre_target = (double)reverb_params[REVERB_PREDELAY].def * rate;
	r->pre_coef = 1.0 - exp(-1.0 / ((double)REVERB_PREDELAY_SMOOTH *
	    tick_rate));
	reverb_snap(r);
}

/* At the start of each tick: advance the controls by one tick and set
 * the ramps that carry them through it; recompute the shelves when the
 * decay or the size moved. */
static void
reverb_control(struct reverb *r)
{
	int moved = smoother_moving(&r->k_lo) || smoother_moving(&r->k_hi) ||
	    r->size != r->size_target;

	reverb_smooth(&r->k_lo);
	reverb_smooth(&r->k_hi);
	if (r->size != r->size_target) {
		float d = r->size_target - r->size;
		float step = clampf(d * r->size_coef, -r->size_max_step,
		    r->size_max_step);
		r->size = fabsf(d) < 1e-6f ? r->size_target : r->size + step;
	}
	if (moved)
		reverb_shelves(r);
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float c = r->lfo_c[i], s = r->lfo_s[i];
		float nc = c * r->rot_c[i] - s * r->rot_s[i];
		float ns = s * r->rot_c[i] + c * r->rot_s[i];
		float g = 1.5f - 0.5f * (nc * nc + ns * ns);  /* stay on the circle */
		r->lfo_c[i] = nc * g;
		r->lfo_s[i] = ns * g;
	}
	reverb_aim_lines(r, 0);

	double dp = r->pre_target - r->pre_end;
	r->pre_start = r->pre_end;
	r->pre_end = fabs(dp) < 1e-3 ? r->pre_target : r->pre_end + dp * r->pre_coef;
	r->pre_step = (r->pre_end - r->pre_start) * (1.0 / REVERB_TICK);

	reverb_ramp_to(&r->width_ramp, reverb_smooth(&r->width));
	reverb_ramp_to(&r->mix_ramp, reverb_smooth(&r->mix));
	reverb_ramp_to(&r->gain_ramp, REVERB_WET_GAIN * sqrtf(r->size));
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
	float h[4] = { 0.0f, 1.0f, 0.0f, 0.0f };
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
	if (r->pre_step == 0.0) {             /* settled: fixed weights */
		di = (unsigned)r->pre_start;
		reverb_lagrange((float)(r->pre_start - di), h);
	}
	for (unsigned n = 0; n < k; n++) {
		if (r->pre_step != 0.0) {
			double p = r->pre_start + (double)(r->phase + n) *
			    r->pre_step;
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

/* A tick of interpolated reads whose taps slide by one sample per sample:
 * v[n] = sum of h_j[n] * b[n + j]. */
static inline void
reverb_fir_tick(const float *restrict b, const float *restrict h0,
    const float *restrict h1, const float *restrict h2,
    const float *restrict h3, float *restrict v)
{
	for (unsigned n = 0; n < REVERB_TICK; n++)
		v[n] = h0[n] * b[n] + h1[n] * b[n + 1] + h2[n] * b[n + 2] +
		    h3[n] * b[n + 3];
}

/* Read line i at its modulated, interpolated read point into v[0..TICK)
 * (the samples past k of a shorter chunk are computed, not used); a chunk
 * never reaches samples it writes itself. */
static void
reverb_read_line(const struct reverb *r, unsigned i, unsigned k, float *v)
{
	const float *buf = r->mem + (size_t)i * r->line_stride;
	int at[REVERB_TICK];
	float h0[REVERB_TICK], h1[REVERB_TICK], h2[REVERB_TICK], h3[REVERB_TICK];
	int w = (int)r->w - r->pint[i] - 2;
	float f0 = r->f0[i], dpos = r->dpos[i], t0 = (float)r->phase;

	/* the weights, for whole ticks (a loop the compiler vectorises) */
	for (int n = 0; n < REVERB_TICK; n++) {
		float p = f0 + (t0 + (float)n) * dpos;  /* in (0, 5) for n < k */
		int ip = (int)p;
		float d = p - (float)ip, dm1 = d - 1.0f, dm2 = d - 2.0f;
		float dp1 = d + 1.0f;
		at[n] = w + n - ip;                 /* tap 3: delay pint + ip + 2 */
		h3[n] = d * dm1 * dm2 * (-1.0f / 6.0f);
		h2[n] = dp1 * dm1 * dm2 * 0.5f;
		h1[n] = dp1 * d * dm2 * -0.5f;
		h0[n] = dp1 * d * dm1 * (1.0f / 6.0f);
	}
	/* usually the taps slide by one sample per sample without wrapping:
	 * one vectorised pass */
	unsigned base = (unsigned)at[0] & r->line_mask;
	if (k == REVERB_TICK && at[k - 1] - at[0] == (int)k - 1 &&
	    base + k <= r->line_mask + 1) {
		reverb_fir_tick(buf + base, h0, h1, h2, h3, v);
		return;
	}
	for (unsigned n = 0; n < k; n++) {
		const float *x = buf + ((unsigned)at[n] & r->line_mask);
		v[n] = h0[n] * x[0] + h1[n] * x[1] + h2[n] * x[2] + h3[n] * x[3];
	}
}

/* One butterfly of the Hadamard transform, over a tick of samples:
 * a, b <- a + b, a - b. */
static inline void
reverb_butterfly(float *restrict a, float *restrict b)
{
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float x = a[n], y = b[n];
		a[n] = x + y;
		b[n] = x - y;
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
	float b0[REVERB_LINES], b1[REVERB_LINES], a1[REVERB_LINES];
	float z[REVERB_LINES];
	unsigned mask = r->line_mask, w = r->w;

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
	for (unsigned i = 0; i < REVERB_LINES; i++)
		reverb_read_line(r, i, k, v[i]);
	for (unsigned n = k; n < REVERB_TICK; n++)
		for (unsigned i = 0; i < REVERB_LINES; i++)
			v[i][n] = 0.0f;

	/* the decay shelves: 8 independent recursions, sample by sample */
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		b0[i] = r->b0[i];
		b1[i] = r->b1[i];
		a1[i] = r->a1[i];
		z[i] = r->z[i];
	}
	for (unsigned n = 0; n < k; n++)
		for (unsigned i = 0; i < REVERB_LINES; i++) {
			float in = v[i][n];
			float y = b0[i] * in + z[i];
			z[i] = b1[i] * in - a1[i] * y;
			v[i][n] = y;
		}
	for (unsigned i = 0; i < REVERB_LINES; i++)
		r->z[i] = z[i];

	/* Hadamard mix: a fast Walsh-Hadamard transform across the lines */
	for (unsigned h = 1; h < REVERB_LINES; h <<= 1)
		for (unsigned i = 0; i < REVERB_LINES; i += 2 * h)
			for (unsigned j = i; j < i + h; j++)
				reverb_butterfly(v[j], v[j + h]);

	/* wet outputs: the diffused input and two rows of the mix */
	const float direct = REVERB_WET_GAIN * REVERB_DIRECT;
	for (unsigned n = 0; n < REVERB_TICK; n++) {
		float t = (float)(r->phase + n);
		float width = r->width_ramp.start + t * r->width_ramp.step;
		float mix = r->mix_ramp.start + t * r->mix_ramp.step;
		float gain = r->gain_ramp.start + t * r->gain_ramp.step;
		float wl = direct * d[0][n] + gain * v[REVERB_TAP_L][n];
		float wr = direct * d[1][n] + gain * v[REVERB_TAP_R][n];
		float mid = 0.5f * (wl + wr), side = 0.5f * width * (wl - wr);
		o[0][n] = (1.0f - mix) * x[0][n] + mix * (mid + side);
		o[1][n] = (1.0f - mix) * x[1][n] + mix * (mid - side);
	}
	memcpy(yl, o[0], k * sizeof(float));
	memcpy(yr, o[1], k * sizeof(float));

	/* feed back with the input, keeping the guard copies */
	for (unsigned i = 0; i < REVERB_LINES; i++) {
		float *buf = r->mem + (size_t)i * r->line_stride;
		const float *in = d[i & 1];
		float sign = reverb_in_sign[i];
		for (unsigned n = 0; n < k; n++) {
			unsigned j = (w + n) & mask;
			float y = v[i][n] + sign * in[n];
			buf[j] = y;
			if (j < REVERB_GUARD)
				buf[mask + 1 + j] = y;
		}
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
	.help = "stereo algorithmic reverb: 8-line feedback delay network, T60 per band",
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
