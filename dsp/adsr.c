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

/* Produce `frames` samples of envelope in [0, 1] from the gate input. */
static void
adsr_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct adsr *a = self;
	const float *gate = in[ADSR_IN_GATE];
	float *y = out[ADSR_OUT];

	for (unsigned i = 0; i < frames; i++) {
		int g = gate != NULL && gate[i] > 0.5f;
		double sustain;

		/* only the decay/sustain stage uses sustain: smooth it there */
		if (a->stage == ADSR_DECAY)
			sustain = smoother_next(&a->sustain);
		else
			sustain = a->sustain.cur = a->sustain.target;

		if (g && !a->gate) {
			a->stage = a->level >= 1.0 ? ADSR_DECAY : ADSR_ATTACK;
		} else if (!g && a->gate && a->stage != ADSR_IDLE) {
			a->stage = ADSR_RELEASE;
			a->release_floor = a->level * 0.001;
		}
		a->gate = g;
		/* the sample shows the level at its own time, then moves on */
		y[i] = (float)a->level;
		adsr_step(a, sustain);
	}
}

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
	.params = adsr_params,
	.n_params = ADSR_N_P,
	.init = adsr_init,
	.set_param = adsr_set_param,
	.process = adsr_process,
};
