/*
 * dsp/seq.c — step sequencer: up to 8 steps of pitch, one per division,
 * played in time with the song position (JACK transport when it rolls,
 * the patch's tempo otherwise).
 *
 * The sequencer keeps no clock of its own: at every frame the song
 * position (dsp/tempo.h) says which step sounds, step = floor(position /
 * division) mod steps, and how far into it we are.  So a render replays
 * exactly, every seq of a patch shares the downbeat, and after transport
 * jumps the sequence is where the song says it is.
 *
 *   pitch  the step's value in octaves (semitones / 12; 0 = A4, as the
 *          midi module's pitch), changes on the step's first frame;
 *   gate   high for the first `gate` part of each step (1: tied, no gap);
 *   trig   1 on the first frame of each step, else 0.
 *
 * play=always runs at the patch's tempo while transport is stopped (and in
 * offline renders); play=rolling keeps the gate low unless transport rolls.
 */
#include <math.h>

#include "dsp_util.h"
#include "module.h"

#define SEQ_MAX_STEPS 8

enum { SEQ_N_IN = 0 };
enum { SEQ_OUT_PITCH, SEQ_OUT_GATE, SEQ_OUT_TRIG, SEQ_N_OUT };
enum {
	SEQ_P_STEPS, SEQ_P_DIVISION, SEQ_P_GATE, SEQ_P_PLAY,
	SEQ_P_S1, SEQ_P_S2, SEQ_P_S3, SEQ_P_S4,
	SEQ_P_S5, SEQ_P_S6, SEQ_P_S7, SEQ_P_S8,
	SEQ_N_P
};
enum { SEQ_PLAY_ALWAYS, SEQ_PLAY_ROLLING };

struct seq {
	unsigned steps;             /* 1..SEQ_MAX_STEPS */
	double division;            /* whole notes per step */
	double gate;                /* part of a step the gate is high, (0, 1] */
	unsigned play;              /* SEQ_PLAY_* */
	float pitch[SEQ_MAX_STEPS]; /* octaves */
	struct dsp_tempo tempo;     /* at the next block's first frame */
	int64_t last_index;         /* division index of the last frame, or
				       INT64_MIN before the first */
};

static const char *const seq_divisions[] = { TEMPO_DIVISION_NAMES, NULL };
static const char *const seq_plays[] = { "always", "rolling", NULL };

static const struct port_desc seq_outputs[SEQ_N_OUT] = {
	[SEQ_OUT_PITCH] = { "pitch", "the step's pitch, octaves (0 = A4)" },
	[SEQ_OUT_GATE] = { "gate", "high (1) for the first `gate` part of each step" },
	[SEQ_OUT_TRIG] = { "trig", "1 on the first frame of each step" },
};

#define SEQ_STEP(n) [SEQ_P_S##n] = { "s" #n, "semitones", PARAM_REAL, -48, 48, 0, \
	    "pitch of step " #n ", semitones from A4", NULL }

static const struct param_desc seq_params[SEQ_N_P] = {
	[SEQ_P_STEPS] = { "steps", "", PARAM_INT, 1, SEQ_MAX_STEPS, SEQ_MAX_STEPS,
	    "steps played before the sequence starts again", NULL },
	[SEQ_P_DIVISION] = { "division", "", PARAM_CHOICE, 0,
	    TEMPO_N_DIVISIONS - 1, 5,
	    "length of one step, a note value (1/16, 1/8d dotted, 1/8t triplet, ...)", seq_divisions },
	[SEQ_P_GATE] = { "gate", "", PARAM_REAL, 0.01f, 1, 0.5f,
	    "part of each step the gate is high (1: tied)", NULL },
	[SEQ_P_PLAY] = { "play", "", PARAM_CHOICE, 0, 1, SEQ_PLAY_ALWAYS,
	    "always: the patch's tempo when transport stands; rolling: only while JACK transport rolls", seq_plays },
	SEQ_STEP(1), SEQ_STEP(2), SEQ_STEP(3), SEQ_STEP(4),
	SEQ_STEP(5), SEQ_STEP(6), SEQ_STEP(7), SEQ_STEP(8),
};

/* Prepare zeroed state: 8 steps of A4, eighth notes, half gate. */
static void
seq_init(void *self, float rate, uint32_t seed)
{
	struct seq *q = self;

	(void)seed;
	q->steps = SEQ_MAX_STEPS;
	q->division = tempo_division_length(
	    (unsigned)seq_params[SEQ_P_DIVISION].def);
	q->gate = seq_params[SEQ_P_GATE].def;
	q->play = SEQ_PLAY_ALWAYS;
	q->tempo = tempo_default(rate);
	q->last_index = INT64_MIN;
}

/* Set parameter `index` (already clamped to its range); acts at the next
 * step boundary for pitches, at once for the rest. */
static void
seq_set_param(void *self, unsigned index, float value)
{
	struct seq *q = self;

	switch (index) {
	case SEQ_P_STEPS:
		q->steps = (unsigned)value;
		break;
	case SEQ_P_DIVISION:
		q->division = tempo_division_length((unsigned)value);
		break;
	case SEQ_P_GATE:
		q->gate = value;
		break;
	case SEQ_P_PLAY:
		q->play = (unsigned)value;
		break;
	default:
		if (index >= SEQ_P_S1 && index < SEQ_N_P)
			q->pitch[index - SEQ_P_S1] = value / 12.0f;
		break;
	}
}

/* Take the song position and tempo for the coming block. */
static void
seq_tempo(void *self, const struct dsp_tempo *t)
{
	struct seq *q = self;

	q->tempo = *t;
}

/* Produce `frames` frames of pitch, gate and trig from the song position. */
static void
seq_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct seq *q = self;
	float *pitch = out[SEQ_OUT_PITCH], *gate = out[SEQ_OUT_GATE],
	    *trig = out[SEQ_OUT_TRIG];
	int playing = q->play == SEQ_PLAY_ALWAYS || q->tempo.rolling;
	double u0 = q->tempo.position / q->division;
	double du = q->tempo.per_frame / q->division;   /* steps per frame */

	(void)in;
	for (unsigned i = 0; i < frames; i++) {
		double u = u0 + du * (double)i + TEMPO_NUDGE;
		double whole = floor(u);
		int64_t k = (int64_t)whole;
		int64_t step = k % (int64_t)q->steps;
		if (step < 0)
			step += q->steps;
		pitch[i] = q->pitch[step];
		gate[i] = playing && u - whole < q->gate ? 1.0f : 0.0f;
		trig[i] = playing && k != q->last_index ? 1.0f : 0.0f;
		q->last_index = k;
	}
	q->tempo.position += q->tempo.per_frame * (double)frames;
}

const struct module_type seq_module = {
	.name = "seq",
	.help = "step sequencer: up to 8 pitches, one per note division, in time with JACK transport or the patch tempo",
	.size = sizeof(struct seq),
	.inputs = NULL,
	.n_inputs = SEQ_N_IN,
	.outputs = seq_outputs,
	.n_outputs = SEQ_N_OUT,
	.params = seq_params,
	.n_params = SEQ_N_P,
	.init = seq_init,
	.set_param = seq_set_param,
	.process = seq_process,
	.tempo = seq_tempo,
};
