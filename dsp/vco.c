/*
 * dsp/vco.c — band-limited oscillator: saw, pulse with PWM, triangle, sine;
 * exponential FM, hard sync.
 *
 * Saw and triangle read the mip-mapped tables of wavetable.c, blending the
 * two levels chosen for the instantaneous frequency (so no harmonic is above
 * 0.45 of the rate, and none switches in or out abruptly).  Pulse is the
 * difference of two saws half a width apart, so it is band-limited and has
 * no DC at any width.  Sine reads a pure sine table.  Phase is a 32-bit
 * accumulator (exact wrap); with no pitch or fm input connected and no glide
 * moving, the increment is computed once per block in double precision, so a
 * frequency of rate * m / 2^k gives an exactly periodic output.
 *
 * Hard sync takes another path while the sync input is connected: the
 * naive waveform (a ramp, a pulse, a triangle or a sine computed from the
 * phase) plus band-limited corrections from blep.c at every discontinuity,
 * at its exact sub-sample time: the saw's and pulse's own edges, the
 * triangle's corners, and each reset, where the jump in value and slope
 * (and for the sine the next two derivatives too) is corrected.  The reset
 * time is where a cubic through four sync samples crosses 0, so the synced
 * path looks one sample ahead, and the symmetric kernel delays it BLEP_ZC
 * more: the output is VCO_SYNC_LATENCY samples late while sync is
 * connected.  With sine masters to 3 kHz aliases stay below -60 dBc over
 * the whole band and below -75 dBc under 10 kHz (tests/
 * vco_sync_alias_test.c).  A band-limited saw master is harder: the ripple
 * its samples carry near Nyquist moves the cubic's crossing by an amount
 * that depends on where it falls between samples (about -36 dBc at
 * 700 -> 1000 Hz).  The free path is untouched.  Entering and leaving the
 * synced path keep the phase continuous.
 *
 * freq, detune, pw, fm and level glide over SMOOTH_SECONDS; octave and wave
 * change at once.  Parameters set before the first block apply at once.
 *
 * Voices side by side (process_lanes): the free and the synced path of
 * every wave run 4 or 8 voices at once, bit-identical to process.  The kernel is dsp/vco_lanes.h, which this file includes
 * once per vector width (VCO_LANE_WIDTH set), so it is written once.
 */
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "blep.h"
#include "dsp_util.h"
#include "lanes.h"
#include "module.h"
#include "wavetable.h"

enum { VCO_IN_PITCH, VCO_IN_FM, VCO_IN_PW, VCO_IN_SYNC, VCO_N_IN };
enum { VCO_OUT_OUT, VCO_N_OUT };
enum {
	VCO_P_WAVE, VCO_P_FREQ, VCO_P_OCTAVE, VCO_P_DETUNE, VCO_P_PW,
	VCO_P_FM, VCO_P_LEVEL, VCO_N_P
};
enum { VCO_SAW, VCO_PULSE, VCO_TRIANGLE, VCO_SINE };

#define VCO_CHUNK 64            /* frames of per-sample state on the stack */
#define VCO_PW_MIN 0.02f
#define VCO_PW_MAX 0.98f
#define VCO_RING (4 * BLEP_ZC)  /* synced samples pending, a power of two */
#define VCO_RING_MASK (VCO_RING - 1)
#define VCO_SYNC_LATENCY (BLEP_ZC + 1)  /* samples, while sync is connected */
_Static_assert(VCO_SYNC_LATENCY == 33, "the sync port's help states the latency");
#define VCO_QUARTER 0x40000000u  /* a quarter cycle of phase */

/* The synced path's generator: samples written BLEP_ZC before they are
 * emitted, so that corrections can reach both sides of an event. */
struct vco_sync {
	float ring[VCO_RING];      /* naive values plus corrections */
	uint32_t ring_phase[VCO_RING];  /* phase of each generated sample */
	unsigned pos;              /* ring index of the next sample generated */
	uint32_t phase;            /* phase of the last sample generated */
	float hist[3];             /* sync input 3, 2 and 1 samples back */
};

struct vco {
	const float *saw;         /* wavetable levels */
	const float *tri;
	const float *sine;
	double inc_scale;         /* phase units per Hz: 2^32 / rate */
	unsigned wave;            /* VCO_SAW ... */
	float freq;               /* Hz at pitch 0 */
	float octave;             /* whole octaves */
	float detune;             /* cents */
	uint32_t base_inc;        /* phase increment at pitch 0, 2^-32 cycles */
	float base_linc;          /* log2(base_inc) */
	struct smoother glide;    /* pitch distance from base_linc, octaves */
	float fm;                 /* octaves per unit of fm input */
	struct smoother fm_glide;
	float pw;                 /* pulse width, fraction of a cycle */
	struct smoother pw_glide;
	float level;              /* output gain */
	struct smoother level_glide;
	uint32_t phase;           /* 2^-32 cycles, when sync is not connected */
	struct vco_sync sync;     /* the synced path's state */
	int syncing;              /* sync was connected last block */
	int started;              /* process has run */
};

static const char *const vco_waves[] = {
	"saw", "pulse", "triangle", "sine", NULL
};

static const struct port_desc vco_inputs[VCO_N_IN] = {
	[VCO_IN_PITCH] = { "pitch", "pitch, octaves added to freq (0 = freq; midi pitch is 0 at A4)" },
	[VCO_IN_FM] = { "fm", "exponential FM, scaled by the fm parameter (octaves per unit)" },
	[VCO_IN_PW] = { "pw", "pulse width offset, fraction of a cycle added to pw" },
	[VCO_IN_SYNC] = { "sync", "hard sync: phase resets where this rises through 0 (audio); "
	    "while connected, out is 33 samples late (0.7 ms at 48 kHz)" },
};

static const struct port_desc vco_outputs[VCO_N_OUT] = {
	[VCO_OUT_OUT] = { "out", "audio, peak about level (saw 1.09 x level, pulse up to 1.96 x)" },
};

static const struct param_desc vco_params[VCO_N_P] = {
	[VCO_P_WAVE] = { "wave", "", PARAM_CHOICE, 0, 3, 0,
	    "waveform: saw, pulse (width pw), triangle or sine; switches at once", vco_waves },
	[VCO_P_FREQ] = { "freq", "Hz", PARAM_REAL, 0.1f, 20000, 440,
	    "frequency at pitch 0 (440 tracks the midi pitch output)", NULL },
	[VCO_P_OCTAVE] = { "octave", "oct", PARAM_INT, -4, 4, 0,
	    "whole octaves added to the frequency; switches at once", NULL },
	[VCO_P_DETUNE] = { "detune", "cents", PARAM_REAL, -1200, 1200, 0,
	    "fine tuning in cents (100 to a semitone)", NULL },
	[VCO_P_PW] = { "pw", "", PARAM_REAL, VCO_PW_MIN, VCO_PW_MAX, 0.5f,
	    "pulse width, fraction of a cycle high (0.5 square); pw input added", NULL },
	[VCO_P_FM] = { "fm", "oct", PARAM_REAL, 0, 8, 1,
	    "octaves of pitch per unit of the fm input", NULL },
	[VCO_P_LEVEL] = { "level", "", PARAM_REAL, 0, 1, 1,
	    "output gain, linear", NULL },
};

/* Recompute the pitch-0 increment after freq, octave or detune changed;
 * when `glide` is set the heard pitch moves there over SMOOTH_SECONDS. */
static void
vco_retune(struct vco *v, int glide)
{
	double inc = v->freq * exp2(v->octave + v->detune / 1200.0) *
	    v->inc_scale;
	double hi = exp2((double)WT_LINC_MAX);
	float old = v->base_linc;

	inc = inc < 1.0 ? 1.0 : (inc > hi ? hi : inc);
	v->base_inc = (uint32_t)llrint(inc);
	v->base_linc = (float)log2(inc);
	if (glide)
		glide_retarget(&v->glide, old, v->base_linc);
}

/* Prepare zeroed state at `rate` Hz with default parameters. */
static void
vco_init(void *self, float rate, uint32_t seed)
{
	struct vco *v = self;

	(void)seed;
	wavetable_init();
	blep_init();
	v->saw = wavetable_shape(WT_SAW);
	v->tri = wavetable_shape(WT_TRIANGLE);
	v->sine = wavetable_sine();
	v->inc_scale = 4294967296.0 / rate;
	v->wave = (unsigned)vco_params[VCO_P_WAVE].def;
	v->freq = vco_params[VCO_P_FREQ].def;
	v->octave = vco_params[VCO_P_OCTAVE].def;
	v->detune = vco_params[VCO_P_DETUNE].def;
	v->pw = vco_params[VCO_P_PW].def;
	v->fm = vco_params[VCO_P_FM].def;
	v->level = vco_params[VCO_P_LEVEL].def;
	glide_init(&v->glide, rate);
	glide_init(&v->fm_glide, rate);
	glide_init(&v->pw_glide, rate);
	glide_init(&v->level_glide, rate);
	vco_retune(v, 0);
}

/* Set parameter `index` (already clamped to its range). */
static void
vco_set_param(void *self, unsigned index, float value)
{
	struct vco *v = self;
	int glide = v->started;
	float old;

	switch (index) {
	case VCO_P_WAVE:
		v->wave = (unsigned)value;
		break;
	case VCO_P_FREQ:
		v->freq = value;
		vco_retune(v, glide);
		break;
	case VCO_P_OCTAVE:
		v->octave = value;
		vco_retune(v, 0);
		break;
	case VCO_P_DETUNE:
		v->detune = value;
		vco_retune(v, glide);
		break;
	case VCO_P_PW:
		old = v->pw;
		v->pw = value;
		if (glide)
			glide_retarget(&v->pw_glide, old, value);
		break;
	case VCO_P_FM:
		old = v->fm;
		v->fm = value;
		if (glide)
			glide_retarget(&v->fm_glide, old, value);
		break;
	case VCO_P_LEVEL:
		old = v->level;
		v->level = value;
		if (glide)
			glide_retarget(&v->level_glide, old, value);
		break;
	}
}

/* One sample of `wave` at `phase`: mip levels j, j+1 blended by w, pulse
 * width `pwph` in 2^-32 cycles. */
static inline __attribute__((always_inline)) float
vco_sample(const struct vco *v, unsigned wave, uint32_t phase, unsigned j,
    float w, uint32_t pwph)
{
	switch (wave) {
	case VCO_SAW:
		return wavetable_read2(v->saw, j, w, phase);
	case VCO_PULSE:
		return wavetable_read2(v->saw, j, w, phase - pwph) -
		    wavetable_read2(v->saw, j, w, phase);
	case VCO_TRIANGLE:
		return wavetable_read2(v->tri, j, w, phase);
	default:
		return wavetable_read(v->sine, phase);
	}
}

/* The naive (not band-limited) `wave` at `phase`, pulse width `pwph`:
 * the shapes the tables hold, with their edges and corners sharp. */
static inline __attribute__((always_inline)) float
vco_naive(const struct vco *v, unsigned wave, uint32_t phase, uint32_t pwph)
{
	float x = (float)phase * (1.0f / 4294967296.0f);
	float pw = (float)pwph * (1.0f / 4294967296.0f);

	switch (wave) {
	case VCO_SAW:
		return 2.0f * x - 1.0f;
	case VCO_PULSE:
		return phase < pwph ? 2.0f - 2.0f * pw : -2.0f * pw;
	case VCO_TRIANGLE:
		if (phase < VCO_QUARTER)
			return 4.0f * x;
		if (phase < 3 * VCO_QUARTER)
			return 2.0f - 4.0f * x;
		return 4.0f * x - 4.0f;
	default:
		return wavetable_read(v->sine, phase);
	}
}

/* Where a synced generator's corrections go: ring entry i is
 * base[(i & VCO_RING_MASK) * stride], and entry `now` is the sample being
 * generated.  A voice alone writes its own ring (stride 1); the lane
 * kernel writes one lane of W rings interleaved (stride W). */
struct vco_ring {
	float *base;
	unsigned stride;
	unsigned now;
	blep_add_fn *add;   /* blep_add, or blep_add_avx2 from AVX2 code */
};

/* Correct, in the ring, a breakpoint of the naive wave at phase `at` if the
 * phase passes it (start excluded, end included) in a stretch from `from`
 * that covers `len` of phase, starting `start` samples before the sample
 * now generated, at `inc` per sample; d0, d1: its jumps in value and slope. */
static inline __attribute__((always_inline)) void
vco_sync_break(const struct vco_ring *r, uint32_t at, uint32_t from,
    uint32_t len, uint32_t inc, float start, float d0, float d1)
{
	uint32_t ahead = at - from;
	float d[2] = { d0, d1 };

	if (ahead == 0 || ahead > len)
		return;
	r->add(r->base, VCO_RING_MASK, r->now - BLEP_ZC, r->stride,
	    start - (float)ahead / (float)inc, d, d1 != 0.0f ? 2 : 1);
}

/* Correct every breakpoint of `wave` in one stretch (see vco_sync_break). */
static inline __attribute__((always_inline)) void
vco_sync_stretch(const struct vco_ring *r, unsigned wave, uint32_t from,
    uint32_t len, uint32_t inc, float start, uint32_t pwph)
{
	float slope = 8.0f * (float)inc * (1.0f / 4294967296.0f);

	switch (wave) {
	case VCO_SAW:
		vco_sync_break(r, 0, from, len, inc, start, -2.0f, 0.0f);
		break;
	case VCO_PULSE:
		vco_sync_break(r, 0, from, len, inc, start, 2.0f, 0.0f);
		vco_sync_break(r, pwph, from, len, inc, start, -2.0f, 0.0f);
		break;
	case VCO_TRIANGLE:
		vco_sync_break(r, VCO_QUARTER, from, len, inc, start, 0.0f,
		    -slope);
		vco_sync_break(r, 3 * VCO_QUARTER, from, len, inc, start, 0.0f,
		    slope);
		break;
	default:
		break;
	}
}

/* Correct a reset from phase `at` to 0, `before` samples before the sample
 * now generated: the jumps in value and slope, and for the sine in the
 * second and third derivatives too. */
static inline __attribute__((always_inline)) void
vco_sync_reset(const struct vco *v, const struct vco_ring *r, unsigned wave,
    uint32_t at, uint32_t inc, float before, uint32_t pwph)
{
	float d[BLEP_ORDERS] = { 0 };
	float w, sn, cs, wk = 1.0f, jump[4];
	unsigned orders = 1;

	d[0] = vco_naive(v, wave, 0, pwph) - vco_naive(v, wave, at, pwph);
	switch (wave) {
	case VCO_TRIANGLE:
		/* slope 4 cycles^-1 after; -4 in the falling half before */
		if (at >= VCO_QUARTER && at < 3 * VCO_QUARTER)
			d[1] = 8.0f * (float)inc * (1.0f / 4294967296.0f);
		orders = 2;
		break;
	case VCO_SINE:
		w = (float)(2.0 * DSP_PI / 4294967296.0) * (float)inc;
		sn = wavetable_read(v->sine, at);
		cs = wavetable_read(v->sine, at + VCO_QUARTER);
		/* the k-th derivative is w^k sin(phase + k quarter cycles) */
		jump[0] = -sn;
		jump[1] = 1.0f - cs;
		jump[2] = sn;
		jump[3] = cs - 1.0f;
		for (unsigned k = 0; k < BLEP_ORDERS; k++, wk *= w)
			d[k] = wk * jump[k & 3];
		orders = BLEP_ORDERS;
		break;
	default:
		break;
	}
	r->add(r->base, VCO_RING_MASK, r->now - BLEP_ZC, r->stride, before,
	    d, orders);
}

/* Correct, in the ring, every event of one synced sample's step from phase
 * `from` at `inc`, pulse width `pwph`: when `reset`, the phase restarts at
 * 0 `before` samples (0..1) before the sample.  Returns its phase. */
static inline __attribute__((always_inline)) uint32_t
vco_sync_events(const struct vco *v, const struct vco_ring *r, unsigned wave,
    uint32_t from, uint32_t inc, uint32_t pwph, int reset, float before)
{
	uint32_t first, ph;

	if (!reset) {
		vco_sync_stretch(r, wave, from, inc, inc, 1.0f, pwph);
		return from + inc;
	}
	/* up to the reset, then from 0: the two stretches add to inc */
	first = (uint32_t)((1.0 - (double)before) * inc);
	vco_sync_stretch(r, wave, from, first, inc, 1.0f, pwph);
	vco_sync_reset(v, r, wave, from + first, inc, before, pwph);
	ph = inc - first;
	vco_sync_stretch(r, wave, 0, ph, inc, before, pwph);
	return ph;
}

/* Generate one synced sample at `inc`, pulse width `pwph`: when `reset`,
 * the phase restarts at 0 `before` samples (0..1) before it. */
static inline __attribute__((always_inline)) void
vco_sync_step(struct vco *v, unsigned wave, uint32_t inc, uint32_t pwph,
    int reset, float before)
{
	struct vco_sync *s = &v->sync;
	struct vco_ring r = { s->ring, 1, s->pos, blep_add };
	uint32_t ph = vco_sync_events(v, &r, wave, s->phase, inc, pwph, reset,
	    before);

	s->ring[s->pos & VCO_RING_MASK] += vco_naive(v, wave, ph, pwph);
	s->ring_phase[s->pos & VCO_RING_MASK] = ph;
	s->phase = ph;
	s->pos++;
}

/*
 * Where the sync input crosses 0 between samples b (<= 0) and c (> 0), as
 * a fraction 0..1 of the way from b to c: a root of the cubic through a, b,
 * c, d (one sample apart), found by Newton steps kept inside the bracket.
 * A cubic bends less than a line on a sine master (its error there is
 * below 1e-5 sample up to 3 kHz, a line's up to 0.003).  Non-finite
 * neighbours fall back to the line through b and c.
 */
static float
vco_sync_crossing(float a, float b, float c, float d)
{
	double lo = 0.0, hi = 1.0, x = (double)b / ((double)b - (double)c);
	double c1, c2, c3;

	if (!(x >= 0.0))                /* also NaN, from infinities */
		x = 0.0;
	if (x > 1.0)
		x = 1.0;
	if (!isfinite(a) || !isfinite(b) || !isfinite(c) || !isfinite(d))
		return (float)x;
	c1 = c - b / 2.0 - a / 3.0 - d / 6.0;
	c2 = (a + c) / 2.0 - b;
	c3 = (d - a) / 6.0 + (b - c) / 2.0;
	for (unsigned i = 0; i < 12; i++) {
		double p = b + x * (c1 + x * (c2 + x * c3));
		double slope = c1 + x * (2.0 * c2 + x * 3.0 * c3);
		double next;

		if (p == 0.0)
			break;
		if (p < 0.0)
			lo = x;
		else
			hi = x;
		next = x - p / slope;
		if (!(next >= lo && next <= hi))   /* also NaN */
			next = 0.5 * (lo + hi);
		if (fabs(next - x) < 1e-9) {
			x = next;
			break;
		}
		x = next;
	}
	return (float)x;
}

/* Start the synced path where the free one stands: fill the ring with the
 * next BLEP_ZC samples from `phase`, so the first emitted is at `phase`. */
static void
vco_sync_enter(struct vco *v, unsigned wave, uint32_t inc, uint32_t pwph,
    float sync0)
{
	struct vco_sync *s = &v->sync;

	for (unsigned i = 0; i < VCO_RING; i++)
		s->ring[i] = 0.0f;
	s->pos = 0;
	s->phase = v->phase - inc;
	for (unsigned i = 0; i < BLEP_ZC; i++)
		vco_sync_step(v, wave, inc, pwph, 0, 0.0f);
	/* drop corrections that fell before the first sample */
	for (unsigned i = VCO_RING - BLEP_ZC; i < VCO_RING; i++)
		s->ring[i] = 0.0f;
	s->hist[0] = s->hist[1] = s->hist[2] = sync0;
}

/* Leave the synced path: the free one goes on from the next sample that
 * the synced path would have emitted. */
static void
vco_sync_leave(struct vco *v)
{
	v->phase = v->sync.ring_phase[(v->sync.pos - BLEP_ZC) & VCO_RING_MASK];
}

/* Render m frames of `wave` into y from per-frame increments, levels and
 * pulse widths, with hard sync when `sync` is not NULL. */
static inline __attribute__((always_inline)) void
vco_render(struct vco *v, unsigned wave, const uint32_t *inc,
    const unsigned *lj, const float *lw, const uint32_t *pwph,
    const float *sync, float *y, unsigned m)
{
	struct vco_sync *s = &v->sync;
	uint32_t ph = v->phase;

	if (sync == NULL) {
		for (unsigned k = 0; k < m; k++) {
			y[k] = vco_sample(v, wave, ph, lj[k], lw[k], pwph[k]);
			ph += inc[k];
		}
		v->phase = ph;
		return;
	}
	for (unsigned k = 0; k < m; k++) {
		/* a crossing between the sync samples 2 and 1 back resets the
		 * sample generated now; the one after it shapes the cubic */
		float a = s->hist[0], b = s->hist[1], c = s->hist[2];
		float d = sync[k];
		int reset = b <= 0.0f && c > 0.0f;
		float before = reset ? 1.0f - vco_sync_crossing(a, b, c, d) : 0.0f;
		unsigned out;

		vco_sync_step(v, wave, inc[k], pwph[k], reset, before);
		s->hist[0] = b;
		s->hist[1] = c;
		s->hist[2] = d;
		out = (s->pos - 1 - BLEP_ZC) & VCO_RING_MASK;
		y[k] = s->ring[out];
		s->ring[out] = 0.0f;
	}
}

/*
 * The kernel of voices side by side (see vco_process_lanes), 4 lanes a
 * vector.  vco_process borrows its lane-wise helpers to compute a voice's
 * increments and mip levels four frames at a time: lane by lane they are
 * fast_exp2f, clampf and wavetable_level, bit for bit (tests/lanes_test.c).
 */
/* Lane-wise a where mask (all ones or all zeros per lane), else b; a, b
 * and mask vectors of one size. */
#define VCO_SELECT(mask, a, b) \
	((__typeof__(a))(((mask) & (__typeof__(mask))(a)) | \
	    (~(mask) & (__typeof__(mask))(b))))

#define VCO_LANE_WIDTH 4
#include "vco_lanes.h"
#undef VCO_LANE_WIDTH

/* inc[k], lj[k], lw[k] of the pitches o[k] (log2 of the increment), each
 * clamped to [0, WT_LINC_MAX] in place; levels only when `levels`. */
static void
vco_increments(float *o, unsigned m, uint32_t *inc, unsigned *lj, float *lw,
    int levels)
{
	unsigned k = 0;

	for (; k + 4 <= m; k += 4) {
		vco_vf_4 x;
		memcpy(&x, o + k, sizeof x);
		x = vco_vclamp_4(x, 0.0f, WT_LINC_MAX);
		vco_vu_4 i = vco_vinc_4(x);
		memcpy(o + k, &x, sizeof x);
		memcpy(inc + k, &i, sizeof i);
		if (levels) {
			vco_vi_4 j;
			vco_vf_4 w;
			vco_vlevel_4(x, &j, &w);
			memcpy(lj + k, &j, sizeof j);
			memcpy(lw + k, &w, sizeof w);
		}
	}
	for (; k < m; k++) {
		o[k] = clampf(o[k], 0.0f, WT_LINC_MAX);
		inc[k] = (uint32_t)fast_exp2f(o[k]);
		if (levels)
			wavetable_level(o[k], &lj[k], &lw[k]);
	}
}

/* Produce `frames` frames of output. */
static void
vco_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct vco *v = self;
	const float *pitch = in[VCO_IN_PITCH], *fm = in[VCO_IN_FM];
	const float *pw_in = in[VCO_IN_PW], *sync = in[VCO_IN_SYNC];
	float *y = out[VCO_OUT_OUT];
	uint32_t inc[VCO_CHUNK], pwph[VCO_CHUNK];
	unsigned lj[VCO_CHUNK];
	float lw[VCO_CHUNK];
	int pulse = v->wave == VCO_PULSE;

	int entering = sync != NULL && !v->syncing;

	v->started = 1;
	if (sync == NULL && v->syncing)
		vco_sync_leave(v);
	v->syncing = sync != NULL;

	for (unsigned done = 0; done < frames; done += VCO_CHUNK) {
		unsigned m = frames - done < VCO_CHUNK ? frames - done : VCO_CHUNK;
		int varying = pitch != NULL || fm != NULL ||
		    smoother_moving(&v->glide);

		/* increments and mip levels */
		if (varying) {
			float o[VCO_CHUNK];

			for (unsigned k = 0; k < m; k++)
				o[k] = v->base_linc;
			if (smoother_moving(&v->glide))
				for (unsigned k = 0; k < m; k++)
					o[k] += smoother_next(&v->glide);
			if (pitch != NULL)
				for (unsigned k = 0; k < m; k++)
					o[k] += pitch[done + k];
			if (fm != NULL && smoother_moving(&v->fm_glide)) {
				for (unsigned k = 0; k < m; k++)
					o[k] += (v->fm + smoother_next(&v->fm_glide)) *
					    fm[done + k];
			} else if (fm != NULL) {
				for (unsigned k = 0; k < m; k++)
					o[k] += v->fm * fm[done + k];
			}
			/* sine and the synced (naive) path read no levels */
			int levels = v->wave != VCO_SINE && sync == NULL;
			vco_increments(o, m, inc, lj, lw, levels);
			if (!levels)
				for (unsigned k = 0; k < m; k++)
					lj[k] = 0, lw[k] = 0.0f;
		} else {
			unsigned j;
			float w;

			wavetable_level(v->base_linc, &j, &w);
			for (unsigned k = 0; k < m; k++) {
				inc[k] = v->base_inc;
				lj[k] = j;
				lw[k] = w;
			}
		}
		/* pulse widths */
		if (pulse && (pw_in != NULL || smoother_moving(&v->pw_glide))) {
			for (unsigned k = 0; k < m; k++) {
				float p = v->pw + smoother_next(&v->pw_glide);

				if (pw_in != NULL)
					p += pw_in[done + k];
				p = clampf(p, VCO_PW_MIN, VCO_PW_MAX);
				pwph[k] = (uint32_t)(p * 4294967296.0f);
			}
		} else if (pulse) {
			uint32_t c = (uint32_t)(v->pw * 4294967296.0f);

			for (unsigned k = 0; k < m; k++)
				pwph[k] = c;
		} else {
			for (unsigned k = 0; k < m; k++)
				pwph[k] = 0;
		}
		/* waveform */
		if (entering && done == 0)
			vco_sync_enter(v, v->wave, inc[0], pwph[0], sync[0]);
		float *yc = y + done;
		const float *sc = sync != NULL ? sync + done : NULL;
		switch (v->wave) {
		case VCO_SAW:
			vco_render(v, VCO_SAW, inc, lj, lw, pwph, sc, yc, m);
			break;
		case VCO_PULSE:
			vco_render(v, VCO_PULSE, inc, lj, lw, pwph, sc, yc, m);
			break;
		case VCO_TRIANGLE:
			vco_render(v, VCO_TRIANGLE, inc, lj, lw, pwph, sc, yc, m);
			break;
		default:
			vco_render(v, VCO_SINE, inc, lj, lw, pwph, sc, yc, m);
			break;
		}
		/* level */
		if (smoother_moving(&v->level_glide)) {
			for (unsigned k = 0; k < m; k++)
				yc[k] *= v->level + smoother_next(&v->level_glide);
		} else if (v->level != 1.0f) {
			for (unsigned k = 0; k < m; k++)
				yc[k] *= v->level;
		}
	}
}

/*
 * Voices side by side (module_type.process_lanes, dsp/lanes.h).  Lanes
 * that share a wave run together, lane l of each vector being lane l's
 * voice; each lane follows process exactly: chunks of VCO_CHUNK frames,
 * a lane's increment from its base_inc while it neither glides nor has
 * pitch or fm connected, else from fast_exp2f of its pitch sum, the same
 * table reads and blends.  A smoother that moves in some lane at a
 * chunk's start is advanced in every lane all chunk long, where process
 * advances it only in lanes where it moves: a settled smoother returns
 * exactly 0 and stays put, and adding 0 to these (never -0) sums, or
 * multiplying by a level of exactly 1, changes no bit.  Table points are
 * read as neighbouring pairs, one 64-bit load per lane (AVX2's gather was
 * slower on Zen 5), and inputs and outputs cross between per-lane rows and
 * lane vectors by W x W transposes.  With sync connected, the naive
 * wave and the tests for resets and breakpoints run in vectors; a lane
 * with an event takes process's own vco_sync_events (see
 * vco_lanes_sync_body).
 *
 * The kernel is dsp/vco_lanes.h, compiled once per vector width: included
 * with VCO_LANE_WIDTH set to 4 (lanes_v4, SSE2) and to 8 (lanes_v8, in
 * target("avx2") functions).
 */

#if defined(__x86_64__)
#define VCO_LANE_WIDTH 8
#include "vco_lanes.h"
#undef VCO_LANE_WIDTH
#endif

/* Run `lanes` instances side by side on `path` (see above).  A lone lane
 * of a wave runs through process, and so do two at a fixed pitch (no
 * pitch, fm or sync connected): there half a vector of table reads costs
 * more than two voices' (2.0 against 2.9 ns per voice-sample for a saw
 * on Zen 5).  A block where some lane enters the synced path (sync just
 * connected) runs every lane through process, which fills its ring.  Up
 * to 4 lanes take the 4-float kernel on either path; an 8-lane vector
 * padded from 5 to 8 costs less than two of 4. */
static void
vco_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	struct vco *const *v = (struct vco *const *)self;
	int synced = in[0][VCO_IN_SYNC] != NULL;
	int fixed = in[0][VCO_IN_PITCH] == NULL && in[0][VCO_IN_FM] == NULL &&
	    !synced;
	unsigned pick[LANES_MAX];

	for (unsigned l = 0; l < lanes && synced; l++)
		if (!v[l]->syncing) {
			for (unsigned i = 0; i < lanes; i++)
				vco_process(self[i], in[i], out[i], frames);
			return;
		}
	for (unsigned l = 0; l < lanes; l++) {
		v[l]->started = 1;
		if (v[l]->syncing && !synced)
			vco_sync_leave(v[l]);
		v[l]->syncing = synced;
	}
	for (unsigned wave = VCO_SAW; wave <= VCO_SINE; wave++) {
		unsigned count = 0;

		for (unsigned l = 0; l < lanes; l++)
			if (v[l]->wave == wave)
				pick[count++] = l;
		if (count == 1 || (count == 2 && fixed)) {
			for (unsigned i = 0; i < count; i++)
				vco_process(self[pick[i]], in[pick[i]],
				    out[pick[i]], frames);
			continue;
		}
#if defined(__x86_64__)
		if (path == LANES_AVX2 && count > 4) {
			lanes_count(count, frames);
			vco_lanes_run_8(v, in, out, pick, count, frames, wave,
			    synced);
			continue;
		}
#else
		(void)path;
#endif
		lanes_count(count, frames);
		for (unsigned first = 0; first < count; first += 4)
			vco_lanes_run_4(v, in, out, pick + first,
			    count - first < 4 ? count - first : 4, frames, wave,
			    synced);
	}
}

const struct module_type vco_module = {
	.name = "vco",
	.help = "band-limited oscillator: saw, pulse (PWM), triangle, sine; exp FM, hard sync",
	.size = sizeof(struct vco),
	.inputs = vco_inputs,
	.n_inputs = VCO_N_IN,
	.outputs = vco_outputs,
	.n_outputs = VCO_N_OUT,
	.params = vco_params,
	.n_params = VCO_N_P,
	.init = vco_init,
	.set_param = vco_set_param,
	.process = vco_process,
	.process_lanes = vco_process_lanes,
};
