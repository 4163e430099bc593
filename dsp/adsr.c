/*
 * dsp/adsr.c — attack/decay/sustain/release envelope with exactly defined
 * stage times, sample-accurate gate edges and no clicks on retrigger.
 *
 * Stage times (the definitions the tests measure):
 *   attack   time from 0 to the peak 1.  The curve is an analog-style RC
 *            charge toward ADSR_OVERSHOOT (1.5), cut at 1, so it reaches 1
 *            exactly at the attack time.  A rising gate starts the attack
 *            from the current level, which then reaches 1 sooner (the rest
 *            of the same curve): no jump.
 *   decay    time to fall from 1 to within 0.1 % (-60 dB of the distance)
 *            of the sustain level: an exponential toward sustain with time
 *            constant decay / ln(1000).  The level then stays on sustain
 *            (it follows later sustain changes smoothly).
 *   release  time from the level at gate-off to 0.1 % of that level
 *            (exponential, time constant release / ln(1000)), after which
 *            the output is exactly 0.  It starts from the current level in
 *            any stage.
 * Output sample k is the level at the time of sample k: the sample on which
 * the gate rises still shows the old level, and the attack reaches 1 on the
 * sample ceil(attack * rate) after it.  The level runs in double precision
 * so 30 s stages keep their times.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "dsp_util.h"
#include "module.h"

/* Target of the attack's RC charge, as a multiple of the peak. */
#define ADSR_OVERSHOOT 1.5
/* ln(1000): decay and release end at 0.1 % of their distance. */
#define ADSR_LN1000 6.907755278982137

enum adsr_stage {
	ADSR_IDLE = 0,     /* silent, output exactly 0 */
	ADSR_ATTACK,
	ADSR_DECAY,        /* decay, then sustain: the same stage */
	ADSR_RELEASE
};

enum { ADSR_IN_GATE, ADSR_N_IN };
enum { ADSR_OUT, ADSR_N_OUT };
enum { ADSR_ATTACK_P, ADSR_DECAY_P, ADSR_SUSTAIN_P, ADSR_RELEASE_P, ADSR_N_P };

struct adsr {
	float rate;
	enum adsr_stage stage;
	int gate;                  /* gate state of the previous sample */
	double level;              /* the envelope, [0, 1] */
	double attack_coef;        /* per-sample factor on (level - overshoot) */
	double decay_coef;         /* per-sample factor on (level - sustain) */
	double release_coef;       /* per-sample factor on level */
	double release_floor;      /* 0.1 % of the level at gate-off */
	struct smoother sustain;   /* [0, 1] */
};

/* Per-sample factor of an exponential whose time constant is `seconds`/k. */
static double
adsr_coef(float rate, float seconds, double k)
{
	return exp(-k / ((double)seconds * rate));
}

/* Set parameter `index` (times in seconds, sustain in [0, 1]). */
static void
adsr_set_param(void *self, unsigned index, float value)
{
	struct adsr *a = self;

	switch (index) {
	case ADSR_ATTACK_P:
		/* RC toward 1.5 reaches 1 after ln(1.5 / 0.5) time constants */
		a->attack_coef = adsr_coef(a->rate, value,
		    log(ADSR_OVERSHOOT / (ADSR_OVERSHOOT - 1.0)));
		break;
	case ADSR_DECAY_P:
		a->decay_coef = adsr_coef(a->rate, value, ADSR_LN1000);
		break;
	case ADSR_SUSTAIN_P:
		smoother_set(&a->sustain, clampf(value, 0.0f, 1.0f));
		break;
	case ADSR_RELEASE_P:
		a->release_coef = adsr_coef(a->rate, value, ADSR_LN1000);
		break;
	default:
		break;
	}
}

static const struct param_desc adsr_params[ADSR_N_P] = {
	[ADSR_ATTACK_P] = { .name = "attack", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0005f, .max = 30.0f, .def = 0.01f,
	    .help = "time from 0 to the peak 1 (analog-style curve), seconds" },
	[ADSR_DECAY_P] = { .name = "decay", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0005f, .max = 30.0f, .def = 0.3f,
	    .help = "time from 1 to within 0.1% of the distance to sustain, seconds" },
	[ADSR_SUSTAIN_P] = { .name = "sustain", .unit = "", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 1.0f, .def = 0.7f,
	    .help = "level held while the gate is high, 0..1" },
	[ADSR_RELEASE_P] = { .name = "release", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0005f, .max = 30.0f, .def = 0.5f,
	    .help = "time from the gate-off level to 0.1% of it, then 0, seconds" },
};

/* Prepare zeroed state: default times, idle at level 0. */
static void
adsr_init(void *self, float rate, uint32_t seed)
{
	struct adsr *a = self;

	(void)seed;
	a->rate = rate;
	a->stage = ADSR_IDLE;
	a->gate = 0;
	a->level = 0.0;
	smoother_init(&a->sustain, adsr_params[ADSR_SUSTAIN_P].def, rate,
	    SMOOTH_SECONDS);
	for (unsigned i = 0; i < ADSR_N_P; i++)
		adsr_set_param(a, i, adsr_params[i].def);
}

/* Advance the envelope one sample from the current stage. */
static inline void
adsr_step(struct adsr *a, double sustain)
{
	switch (a->stage) {
	case ADSR_ATTACK:
		a->level = ADSR_OVERSHOOT +
		    (a->level - ADSR_OVERSHOOT) * a->attack_coef;
		if (a->level >= 1.0) {
			a->level = 1.0;
			a->stage = ADSR_DECAY;
		}
		break;
	case ADSR_DECAY:
		a->level = sustain + (a->level - sustain) * a->decay_coef;
		if (fabs(a->level - sustain) < 1e-9)
			a->level = sustain;
		break;
	case ADSR_RELEASE:
		a->level *= a->release_coef;
		if (a->level <= a->release_floor) {
			a->level = 0.0;
			a->stage = ADSR_IDLE;
		}
		break;
	case ADSR_IDLE:
	default:
		break;
	}
}

/* Produce `frames` samples of envelope in [0, 1] from the gate input.  The
 * state is copied into a local for the loop and back after it: stores to
 * y[] could otherwise alias it (a float, as sustain.cur is), and the
 * compiler would keep the level in memory, each sample waiting on the
 * last one's store (5 ns a sample instead of 1). */
/* Whether an envelope holds its sustain level, its smoother settled, with
 * the gate still high at frame i: adsr_process then only fills the level
 * in until the gate falls. */
static int
adsr_holding(const struct adsr *a, const float *gate, unsigned i)
{
	return a->stage == ADSR_DECAY && a->gate && gate != NULL &&
	    gate[i] > 0.5f && a->sustain.cur == a->sustain.target &&
	    a->level == (double)a->sustain.target;
}

static void
adsr_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct adsr *a = self;
	struct adsr st = *a;
	const float *gate = in[ADSR_IN_GATE];
	float *y = out[ADSR_OUT];

	for (unsigned i = 0; i < frames; i++) {
		if (adsr_holding(&st, gate, i)) {
			/* on the sustain level, its smoother settled: a step
			 * leaves everything as it is (level - sustain is 0),
			 * so until the gate falls each sample is the level */
			float held = (float)st.level;
			while (i < frames && gate[i] > 0.5f)
				y[i++] = held;
			if (i == frames)
				break;
		}
		int g = gate != NULL && gate[i] > 0.5f;
		double sustain;

		/* only the decay/sustain stage uses sustain: smooth it there */
		if (st.stage == ADSR_DECAY)
			sustain = smoother_next(&st.sustain);
		else
			sustain = st.sustain.cur = st.sustain.target;

		if (g && !st.gate) {
			st.stage = st.level >= 1.0 ? ADSR_DECAY : ADSR_ATTACK;
		} else if (!g && st.gate && st.stage != ADSR_IDLE) {
			st.stage = ADSR_RELEASE;
			st.release_floor = st.level * 0.001;
		}
		st.gate = g;
		/* the sample shows the level at its own time, then moves on */
		y[i] = (float)st.level;
		adsr_step(&st, sustain);
	}
	*a = st;
}

#if defined(__x86_64__)
/*
 * Voices side by side (module.h, process_lanes): lane l is voice l of the
 * group.  The level runs in double, so each W-lane vector of floats is two
 * halves of W/2 doubles (one register each); every lane does exactly
 * adsr_process's operations in its order:
 *   - the sustain smoother steps in lanes whose stage is decay and is set to
 *     its target in the others (a settled smoother is its target either
 *     way, so when no lane's smoother moves it is not stepped at all);
 *   - gate edges set the stage and the release floor;
 *   - the output is the level before the step;
 *   - the step: all three stage formulas are computed and the stage picks
 *     one, with their end conditions (attack reaching 1, decay within 1e-9
 *     of sustain, release below its floor) picked the same way.
 * Stages are held as doubles (ADSR_IDLE 0.0 ... ADSR_RELEASE 3.0) and gates
 * compared as doubles (a float's double is exact), so every mask comes
 * from a double compare.  Masks are all ones (true) or all zeros per lane.
 * ADSR_LANES_KERNEL defines the kernel for one width; it is instantiated
 * for AVX2 (8 lanes) below.  An SSE2 instance (4 lanes, 2 doubles a
 * register) measured 3.5 ns per voice-sample on moving envelopes, where
 * process takes 2.7 since it keeps its state in registers: on SSE2 the
 * lanes go through process.
 */

/* Lane by lane, `m` (all ones or all zeros) ? t : f, for vectors of type
 * `v` whose lanes are as wide as those of the mask type `vm`. */
#define ADSR_SELECT(v, vm, m, t, f) \
	((v)(((vm)(t) & (m)) | ((vm)(f) & ~(m))))

#define ADSR_LANES_KERNEL(fn, W, vf, vi, dh, lh, attr, widen, narrow,        \
    mask, select, tile_read, tile_write)                                     \
attr static void                                                             \
fn(void *const *self, const float *const *const *in,                         \
    float *const *const *out, unsigned n, unsigned frames)                   \
{                                                                            \
	enum { D = W / 2 };                                                  \
	dh level[2], attack_coef[2], decay_coef[2], release_coef[2];         \
	dh release_floor[2], stage[2], target_d[2];                          \
	lh gate_was[2];                                                      \
	vf cur, target, coef;                                                \
	vf gate_tile[W], y_tile[W];                                          \
	const float *gate[W];                                                \
	float *y[W];                                                         \
	int gated = in[0][ADSR_IN_GATE] != NULL, moving = 0;                 \
	const lh abs_bits = (lh){ 0 } + INT64_MAX;                           \
                                                                             \
	/* lanes past n repeat lane 0 and are never stored */                \
	for (unsigned l = 0; l < W; l++) {                                   \
		const struct adsr *a = self[l < n ? l : 0];                  \
		unsigned h = l / D, j = l % D;                               \
		level[h][j] = a->level;                                      \
		attack_coef[h][j] = a->attack_coef;                          \
		decay_coef[h][j] = a->decay_coef;                            \
		release_coef[h][j] = a->release_coef;                        \
		release_floor[h][j] = a->release_floor;                      \
		stage[h][j] = a->stage;                                      \
		gate_was[h][j] = -(int64_t)(a->gate != 0);                   \
		cur[l] = a->sustain.cur;                                     \
		target[l] = a->sustain.target;                               \
		target_d[h][j] = a->sustain.target;                          \
		coef[l] = a->sustain.coef;                                   \
		moving |= smoother_moving(&a->sustain);                      \
		gate[l] = in[l < n ? l : 0][ADSR_IN_GATE];                   \
		y[l] = out[l < n ? l : 0][ADSR_OUT];                         \
	}                                                                    \
	for (unsigned i = 0; i < frames; i++) {                              \
		unsigned t = i % W;                                          \
		vf g_in = { 0 }, step = cur;                                 \
		dh sustain[2], shown[2];                                     \
		if (gated && t == 0) {                                       \
			if (frames - i >= W)                                 \
				tile_read(gate, i, gate_tile);               \
			else                                                 \
				tile_read_part(gate, i, (float *)gate_tile,  \
				    W, frames - i);                          \
		}                                                            \
		if (gated)                                                   \
			g_in = gate_tile[t];                                 \
		if (moving) {                                                \
			/* smoother_next in all lanes; decay lanes keep it */ \
			vf d = target - cur;                                 \
			step = cur + d * coef;                               \
			vf dist = ADSR_SELECT(vf, vi, d < 0.0f, -d, d);      \
			vf scale = 1.0f + ADSR_SELECT(vf, vi, target < 0.0f, \
			    -target, target);                                \
			step = ADSR_SELECT(vf, vi, (step == cur) |           \
			    (dist < 1e-5f * scale), target, step);           \
		}                                                            \
		_Pragma("GCC unroll 2")                                      \
		for (unsigned h = 0; h < 2; h++) {                           \
			sustain[h] = target_d[h];                            \
			if (moving)                                          \
				sustain[h] = select(                         \
				    mask(stage[h] == ADSR_DECAY),            \
				    widen(step, h),                          \
				    sustain[h]);                             \
                                                                             \
			/* gate edges */                                     \
			lh g = mask(widen(g_in, h) > 0.5);                   \
			lh rise = g & ~gate_was[h];                          \
			lh fall = ~g & gate_was[h] &                         \
			    mask(stage[h] != ADSR_IDLE);                     \
			dh start = select(mask(level[h] >= 1.0),             \
			    (dh){ 0 } + ADSR_DECAY, (dh){ 0 } + ADSR_ATTACK); \
			stage[h] = select(rise, start, stage[h]);            \
			stage[h] = select(fall,                              \
			    (dh){ 0 } + ADSR_RELEASE, stage[h]);             \
			release_floor[h] = select(fall,                      \
			    level[h] * 0.001, release_floor[h]);             \
			gate_was[h] = g;                                     \
			shown[h] = level[h];                                 \
                                                                             \
			/* the step of each stage, then the lane's own */    \
			dh up = ADSR_OVERSHOOT + (level[h] - ADSR_OVERSHOOT) * \
			    attack_coef[h];                                  \
			lh peak = mask(up >= 1.0);                           \
			up = select(peak, (dh){ 0 } + 1.0, up);              \
			dh down = sustain[h] + (level[h] - sustain[h]) *     \
			    decay_coef[h];                                   \
			lh settled = mask((dh)((lh)(down - sustain[h]) &     \
			    abs_bits) < 1e-9);                               \
			down = select(settled, sustain[h], down);            \
			dh fade = level[h] * release_coef[h];                \
			lh ended = mask(fade <= release_floor[h]);           \
			fade = select(ended, (dh){ 0 }, fade);               \
			lh attack = mask(stage[h] == ADSR_ATTACK);           \
			lh decay = mask(stage[h] == ADSR_DECAY);             \
			lh release = mask(stage[h] == ADSR_RELEASE);         \
			level[h] = select(attack, up, level[h]);             \
			level[h] = select(decay, down, level[h]);            \
			level[h] = select(release, fade, level[h]);          \
			stage[h] = select(attack & peak,                     \
			    (dh){ 0 } + ADSR_DECAY, stage[h]);               \
			stage[h] = select(release & ended,                   \
			    (dh){ 0 } + ADSR_IDLE, stage[h]);                \
		}                                                            \
		if (moving)                                                  \
			cur = narrow(sustain[0], sustain[1]);                \
		y_tile[t] = narrow(shown[0], shown[1]);                      \
		if (t == W - 1)                                              \
			tile_write(y, n, i - t, y_tile);                     \
		else if (i == frames - 1)                                    \
			tile_write_part(y, n, i - t, (const float *)y_tile,  \
			    W, t + 1);                                       \
	}                                                                    \
	for (unsigned l = 0; l < n; l++) {                                   \
		struct adsr *a = self[l];                                    \
		unsigned h = l / D, j = l % D;                               \
		a->level = level[h][j];                                      \
		a->release_floor = release_floor[h][j];                      \
		a->stage = (enum adsr_stage)stage[h][j];                     \
		a->gate = gate_was[h][j] != 0;                               \
		/* unmoving: each sample set it to its target */             \
		a->sustain.cur = moving ? cur[l] : a->sustain.target;        \
	}                                                                    \
}

typedef double adsr_v4d __attribute__((vector_size(32)));
typedef int64_t adsr_v4l __attribute__((vector_size(32)));

/* Half h of a float vector as doubles, and two halves of doubles back as
 * floats (exact both ways for the values converted here: floats, and
 * doubles the kernel only shows as floats, as process does). */
__attribute__((target("avx2"), always_inline)) static inline adsr_v4d
adsr_widen8(lanes_v8 v, unsigned h)
{
	return _mm256_cvtps_pd(h == 0 ? _mm256_castps256_ps128(v) :
	    _mm256_extractf128_ps(v, 1));
}

__attribute__((target("avx2"), always_inline)) static inline lanes_v8
adsr_narrow8(adsr_v4d lo, adsr_v4d hi)
{
	return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

/* A mask as the kernel uses it (ADSR_LANES_KERNEL's `mask`). */
__attribute__((target("avx2"), always_inline)) static inline adsr_v4l
adsr_mask8(adsr_v4l m)
{
	return m;
}

/* Lane by lane, m ? t : f on doubles. */
__attribute__((target("avx2"), always_inline)) static inline adsr_v4d
adsr_select8(adsr_v4l m, adsr_v4d t, adsr_v4d f)
{
	return _mm256_blendv_pd(f, t, (__m256d)m);
}

ADSR_LANES_KERNEL(adsr_lanes_avx2, 8, lanes_v8, lanes_v8i, adsr_v4d, adsr_v4l,
    __attribute__((target("avx2"))), adsr_widen8, adsr_narrow8, adsr_mask8,
    adsr_select8, tile_read8, tile_write8)

/* Whether no frame of `gate` (`frames` long) is high. */
static int
adsr_gate_low(const float *gate, unsigned frames)
{
	lanes_v4i high = { 0 };
	unsigned i = 0;

	for (; i + 4 <= frames; i += 4) {
		lanes_v4 g;
		memcpy(&g, gate + i, sizeof g);
		high |= g > 0.5f;
	}
	for (; i < frames; i++)
		high[0] |= gate[i] > 0.5f;
	return (high[0] | high[1] | high[2] | high[3]) == 0;
}

/* Whether the block leaves lane `a` silent: idle at level +0 with its gate
 * low, and no frame of its gate (NULL: none) going high.  Then process
 * would write 0 throughout and only set the sustain smoother to its target
 * (it does so every sample outside decay): the common case of a voice
 * whose key is up, done directly. */
static int
adsr_quiet(const struct adsr *a, const float *gate, unsigned frames)
{
	return a->stage == ADSR_IDLE && !a->gate && a->level == 0.0 &&
	    !signbit(a->level) && (gate == NULL || adsr_gate_low(gate, frames));
}

/* Run `lanes` voices side by side on `path`.  Quiet lanes (adsr_quiet)
 * are written as zeros, lanes holding their sustain level go through
 * process (which fills the level in), and the others, moving, are
 * gathered into one 8-lane AVX2 pass when there are three or more (a pass
 * costs the same whatever the lanes it fills: about 2 voices through
 * process, measured on 256 frames of active envelopes); fewer, or on
 * SSE2, they go through process. */
static void
adsr_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	void *busy[LANES_MAX];
	const float *const *busy_in[LANES_MAX];
	float *const *busy_out[LANES_MAX];
	unsigned n = 0;

	for (unsigned k = 0; k < lanes; k++) {
		struct adsr *a = self[k];
		if (adsr_quiet(a, in[k][ADSR_IN_GATE], frames)) {
			a->sustain.cur = a->sustain.target;
			memset(out[k][ADSR_OUT], 0, frames * sizeof(float));
		} else if (adsr_holding(a, in[k][ADSR_IN_GATE], 0)) {
			/* held on its sustain level: process fills it */
			adsr_process(a, in[k], out[k], frames);
		} else {
			busy[n] = a;
			busy_in[n] = in[k];
			busy_out[n++] = out[k];
		}
	}
	if (path == LANES_AVX2 && n >= 3) {
		lanes_count(n, frames);
		adsr_lanes_avx2(busy, busy_in, busy_out, n, frames);
		return;
	}
	for (unsigned l = 0; l < n; l++)
		adsr_process(busy[l], busy_in[l], busy_out[l], frames);
}
#endif /* __x86_64__: lane kernels */

static const struct port_desc adsr_inputs[ADSR_N_IN] = {
	[ADSR_IN_GATE] = { "gate", "gate, > 0.5 is high; rising edge attacks, falling releases" },
};

static const struct port_desc adsr_outputs[ADSR_N_OUT] = {
	[ADSR_OUT] = { "out", "envelope, unipolar cv in [0, 1]" },
};

const struct module_type adsr_module = {
	.name = "adsr",
	.help = "ADSR envelope: analog-style attack to 1, exponential decay and release",
	.size = sizeof(struct adsr),
	.inputs = adsr_inputs,
	.n_inputs = ADSR_N_IN,
	.outputs = adsr_outputs,
	.n_outputs = ADSR_N_OUT,
	.outputs_bounded = 1,
	.params = adsr_params,
	.n_params = ADSR_N_P,
	.init = adsr_init,
	.set_param = adsr_set_param,
	.process = adsr_process,
#if defined(__x86_64__)
	.process_lanes = adsr_process_lanes,
#endif
};
