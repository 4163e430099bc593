/*
 * dsp/midi.c — one voice's note events turned into control signals: pitch
 * (octaves, 0 = A4), gate, velocity and a note-on trigger, each change at
 * the exact frame of its event.
 *
 * Events arrive through event() between blocks and wait in a fixed queue
 * (MIDI_QUEUE per block; more are dropped and counted in `dropped`).
 * process() applies them in frame order, ties in arrival order.
 *
 *   NOTE_EVENT_ON     gate high and trig 1 on that frame, new pitch and
 *                     velocity (with glide, the pitch slides there).
 *   NOTE_EVENT_OFF    gate low on that frame, if it is the voice's note;
 *                     pitch and velocity keep their values for the release.
 *   NOTE_EVENT_STEAL  the voice is taken by the event's note: gate is 0 on
 *                     that frame exactly, then high (with trig 1) from the
 *                     next frame, so envelopes retrigger.  Pitch and
 *                     velocity change on the low frame.
 *   NOTE_EVENT_BEND   bend amount in [-1, 1] times the bend range, smoothed
 *                     over SMOOTH_SECONDS so the wheel makes no zipper.
 *   NOTE_EVENT_MOD    mod wheel in [0, 1] on the mod output, smoothed alike.
 *
 * A note on while the gate is already high (a mono patch playing legato)
 * changes pitch and velocity without a gate edge: envelopes go on.
 */
#include "dsp_util.h"
#include "module.h"

/* Events held for one block at most; more are dropped and counted. */
#define MIDI_QUEUE 64

enum { MIDI_N_IN = 0 };
enum { MIDI_PITCH, MIDI_GATE, MIDI_VELOCITY, MIDI_TRIG, MIDI_MOD, MIDI_N_OUT };
enum { MIDI_BEND, MIDI_GLIDE, MIDI_N_P };

struct midi {
	float rate;
	unsigned n_queued;
	struct note_event queue[MIDI_QUEUE];
	unsigned long dropped;     /* events lost to a full queue */

	int note;                  /* current note, -1 before the first */
	int held;                  /* the note is held */
	int trig_next;             /* fire trig (gate rise) on the next frame */
	float velocity;            /* 0..1 */
	float pitch;               /* note pitch after glide, octaves */
	float pitch_target;        /* the note's pitch, octaves */
	float glide_from;          /* pitch where the glide started, octaves */
	uint32_t glide_left;       /* frames of glide still to go */
	uint32_t glide_len;        /* frames the glide lasts */
	float glide;               /* s */
	struct smoother bend;      /* -1..1 */
	struct smoother range;     /* semitones */
	struct smoother mod;       /* mod wheel, 0..1 */
	int running;               /* process has run: smooth changes */
};

static const struct param_desc midi_params[MIDI_N_P] = {
	[MIDI_BEND] = { .name = "bend", .unit = "semitones", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 24.0f, .def = 2.0f,
	    .help = "pitch bend range: full wheel bends this many semitones" },
	[MIDI_GLIDE] = { .name = "glide", .unit = "s", .kind = PARAM_REAL,
	    .min = 0.0f, .max = 5.0f, .def = 0.0f,
	    .help = "portamento: time to slide to a new note (linear in pitch), s" },
};

/* Prepare zeroed state: no note yet, pitch at A4, gate low. */
static void
midi_init(void *self, float rate, uint32_t seed)
{
	struct midi *m = self;

	(void)seed;
	m->rate = rate;
	m->n_queued = 0;
	m->dropped = 0;
	m->note = -1;
	m->held = 0;
	m->trig_next = 0;
	m->velocity = 0.0f;
	m->pitch = m->pitch_target = 0.0f;
	m->glide_left = m->glide_len = 0;
	m->glide = midi_params[MIDI_GLIDE].def;
	smoother_init(&m->bend, 0.0f, rate, SMOOTH_SECONDS);
	smoother_init(&m->mod, 0.0f, rate, SMOOTH_SECONDS);
	smoother_init(&m->range, midi_params[MIDI_BEND].def, rate,
	    SMOOTH_SECONDS);
}

/* Set the bend range (semitones, smoothed) or the glide time (s). */
static void
midi_set_param(void *self, unsigned index, float value)
{
	struct midi *m = self;

	if (index == MIDI_BEND) {
		smoother_set(&m->range, value);
		if (!m->running)   /* before the first block: no glide */
			m->range.cur = value;
	} else if (index == MIDI_GLIDE)
		m->glide = value;
}

/* Queue an event for the coming block; drop and count it when full. */
static void
midi_event(void *self, const struct note_event *ev)
{
	struct midi *m = self;

	if (m->n_queued >= MIDI_QUEUE) {
		m->dropped++;
		return;
	}
	m->queue[m->n_queued++] = *ev;
}

/* Start note `note` at `velocity` (1..127): new target pitch, glide or jump. */
static void
midi_start_note(struct midi *m, int note, int velocity)
{
	float target = (float)(note - 69) / 12.0f;
	uint32_t frames = (uint32_t)(m->glide * m->rate + 0.5f);

	if (m->note < 0 || frames < 1) {
		m->pitch = target;
		m->glide_left = 0;
	} else {
		m->glide_from = m->pitch;
		m->glide_left = m->glide_len = frames;
	}
	m->pitch_target = target;
	m->note = note;
	m->held = 1;
	m->velocity = (float)velocity / 127.0f;
}

/* Apply one event on the current frame; sets *low when the gate must be 0
 * on this frame (a steal) and *trig when trig fires on it. */
static void
midi_apply(struct midi *m, const struct note_event *ev, int *low, int *trig)
{
	switch (ev->kind) {
	case NOTE_EVENT_ON:
		midi_start_note(m, ev->note, ev->velocity ? ev->velocity : 1);
		if (!*low)
			*trig = 1;
		break;
	case NOTE_EVENT_OFF:
		if (m->note == ev->note)
			m->held = 0;
		break;
	case NOTE_EVENT_STEAL:
		midi_start_note(m, ev->note, ev->velocity ? ev->velocity : 1);
		*low = 1;
		*trig = 0;
		m->trig_next = 1;
		break;
	case NOTE_EVENT_BEND:
		smoother_set(&m->bend, clampf(ev->amount, -1.0f, 1.0f));
		break;
	case NOTE_EVENT_MOD:
		smoother_set(&m->mod, clampf(ev->amount, 0.0f, 1.0f));
		break;
	default:
		break;
	}
}

/* Sort the queue by frame, keeping arrival order among equal frames. */
static void
midi_sort_queue(struct midi *m)
{
	for (unsigned i = 1; i < m->n_queued; i++) {
		struct note_event e = m->queue[i];
		unsigned j = i;
		while (j > 0 && m->queue[j - 1].frame > e.frame) {
			m->queue[j] = m->queue[j - 1];
			j--;
		}
		m->queue[j] = e;
	}
}

/* Write pitch, gate, velocity and trig for `frames` frames, applying the
 * queued events at their frames (later than the block: its last frame). */
static void
midi_process(void *self, const float *const *in, float *const *out,
    unsigned frames)
{
	struct midi *m = self;
	float *pitch = out[MIDI_PITCH], *gate = out[MIDI_GATE];
	float *vel = out[MIDI_VELOCITY], *trig = out[MIDI_TRIG];
	float *mod = out[MIDI_MOD];
	unsigned next = 0;

	(void)in;
	m->running = 1;
	midi_sort_queue(m);
	for (unsigned i = 0; i < frames; i++) {
		int low = 0, tr = m->trig_next;

		m->trig_next = 0;
		while (next < m->n_queued &&
		    (m->queue[next].frame <= i || i == frames - 1))
			midi_apply(m, &m->queue[next++], &low, &tr);
		if (m->glide_left > 0) {
			/* linear from glide_from, exactly on target at the end */
			m->glide_left--;
			m->pitch = m->pitch_target + (m->glide_from -
			    m->pitch_target) * ((float)m->glide_left /
			    (float)m->glide_len);
		}
		float b = smoother_next(&m->bend) * smoother_next(&m->range);
		pitch[i] = m->pitch + b * (1.0f / 12.0f);
		gate[i] = m->held && !low ? 1.0f : 0.0f;
		vel[i] = m->velocity;
		trig[i] = (float)tr;
		mod[i] = smoother_next(&m->mod);
	}
	m->n_queued = 0;
}

static const struct port_desc midi_outputs[MIDI_N_OUT] = {
	[MIDI_PITCH] = { "pitch", "octaves, 0 = A4: (note - 69)/12 + bend * range/12" },
	[MIDI_GATE] = { "gate", "1 while the note is held, else 0" },
	[MIDI_VELOCITY] = { "velocity", "note-on velocity / 127, unipolar [0, 1]" },
	[MIDI_TRIG] = { "trig", "1 for one frame at each note on, else 0" },
	[MIDI_MOD] = { "mod", "mod wheel (MIDI CC 1), unipolar [0, 1], smoothed" },
};

const struct module_type midi_module = {
	.name = "midi",
	.help = "one voice's notes as pitch, gate, velocity and trigger signals",
	.size = sizeof(struct midi),
	.inputs = NULL,
	.n_inputs = MIDI_N_IN,
	.outputs = midi_outputs,
	.n_outputs = MIDI_N_OUT,
	.params = midi_params,
	.n_params = MIDI_N_P,
	.init = midi_init,
	.set_param = midi_set_param,
	.event = midi_event,
	.process = midi_process,
};
