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

#if defined(__x86_64__)
/*
 * Voices side by side (module.h, process_lanes): lane l is voice l of the
 * group.  What moves every frame runs in vectors, each lane doing exactly
 * midi_process's operations: the glide (glide_left counted down in int32
 * lanes, converted as process converts it), the three smoothers, pitch +
 * bend * range / 12, and the five outputs, written a tile of W frames at a
 * time.  Events stay scalar, as rare as they are: on a frame where some
 * lane has one due, that lane's pitch and glide count go back to its
 * struct, midi_apply runs on it as in process, and the lane's note state
 * is read back into the vectors.  While no smoother moves in any lane, the
 * smoothers are their targets (smoother_next of a settled one) and are not
 * stepped; while, besides, no lane glides or has an event or a trig due,
 * every output holds its value, and whole tiles of it are stored at once
 * (a held note: most frames).  MIDI_LANES_KERNEL defines the kernel for
 * one width; it is instantiated for SSE2 (4 lanes) and AVX2 (8) below.
 */

/* Lane by lane, `m` (all ones or all zeros) ? t : f, on float vectors. */
#define MIDI_SELECT(vf, vi, m, t, f) \
	((vf)(((vi)(t) & (m)) | ((vi)(f) & ~(m))))

/* Whether mask `m` is true in any lane. */
#define MIDI_ANY(vi, m) __extension__ ({                                     \
	vi m_ = (m);                                                         \
	int any_ = 0;                                                        \
	for (unsigned l_ = 0; l_ < sizeof m_ / sizeof m_[0]; l_++)           \
		any_ |= m_[l_];                                              \
	any_ != 0;                                                           \
})

/* smoother_next in every lane of (cur, target, coef): cur steps. */
#define MIDI_SMOOTH(vf, vi, cur, target, coef) __extension__ ({              \
	vf d_ = (target) - (cur);                                            \
	vf next_ = (cur) + d_ * (coef);                                      \
	vf dist_ = MIDI_SELECT(vf, vi, d_ < 0.0f, -d_, d_);                  \
	vf scale_ = 1.0f + MIDI_SELECT(vf, vi, (target) < 0.0f, -(target),   \
	    (target));                                                       \
	(cur) = MIDI_SELECT(vf, vi, (next_ == (cur)) |                       \
	    (dist_ < 1e-5f * scale_), (target), next_);                      \
})

#define MIDI_LANES_KERNEL(fn, W, vf, vi, attr, tile_write)                   \
attr static void                                                             \
fn(void *const *self, float *const *const *out, unsigned n, unsigned frames) \
{                                                                            \
	struct midi *m[W];                                                   \
	vf pitch, pitch_target, glide_from, glide_len, held, velocity;       \
	vf trig_next, bend, bend_to, bend_coef, range, range_to, range_coef; \
	vf mod, mod_to, mod_coef;                                            \
	vi glide_left;                                                       \
	vf tile[MIDI_N_OUT][W];                                              \
	float *y[MIDI_N_OUT][W];                                             \
	unsigned next[W], due = frames;                                      \
	int moving = 0, gliding = 0;                                         \
                                                                             \
	/* lanes past n repeat lane 0 and are never stored */                \
	for (unsigned l = 0; l < W; l++) {                                   \
		m[l] = self[l < n ? l : 0];                                  \
		for (unsigned o = 0; o < MIDI_N_OUT; o++)                    \
			y[o][l] = out[l < n ? l : 0][o];                     \
		if (l < n) {                                                 \
			m[l]->running = 1;                                   \
			midi_sort_queue(m[l]);                               \
		}                                                            \
		next[l] = 0;                                                 \
		pitch[l] = m[l]->pitch;                                      \
		glide_left[l] = (int32_t)m[l]->glide_left;                   \
		trig_next[l] = (float)m[l]->trig_next;                       \
		bend[l] = m[l]->bend.cur;                                    \
		bend_coef[l] = m[l]->bend.coef;                              \
		range[l] = m[l]->range.cur;                                  \
		range_to[l] = m[l]->range.target;                            \
		range_coef[l] = m[l]->range.coef;                            \
		mod[l] = m[l]->mod.cur;                                      \
		mod_coef[l] = m[l]->mod.coef;                                \
		MIDI_LANE_NOTE(l);                                           \
		moving |= smoother_moving(&m[l]->bend) |                     \
		    smoother_moving(&m[l]->range) |                          \
		    smoother_moving(&m[l]->mod);                             \
		gliding |= m[l]->glide_left > 0;                             \
		if (l < n) {                                                 \
			unsigned d = midi_lane_due(m[l], 0, frames);         \
			due = d < due ? d : due;                             \
		}                                                            \
	}                                                                    \
	for (unsigned i = 0; i < frames; i++) {                              \
		unsigned t = i % W;                                          \
		vf tr = trig_next, low = { 0 };                              \
		trig_next = (vf){ 0 };                                       \
		if (i == due) {                                              \
			due = frames;                                        \
			for (unsigned l = 0; l < n; l++) {                   \
				struct midi *v = m[l];                       \
				if (midi_lane_due(v, next[l], frames) == i) { \
					int lo = 0, tg = tr[l] != 0.0f;      \
					v->pitch = pitch[l];                 \
					v->glide_left =                      \
					    (uint32_t)glide_left[l];         \
					v->trig_next = 0;                    \
					while (next[l] < v->n_queued &&      \
					    (v->queue[next[l]].frame <= i || \
					    i == frames - 1))                \
						midi_apply(v,                \
						    &v->queue[next[l]++],    \
						    &lo, &tg);               \
					pitch[l] = v->pitch;                 \
					glide_left[l] =                      \
					    (int32_t)v->glide_left;          \
					MIDI_LANE_NOTE(l);                   \
					tr[l] = (float)tg;                   \
					low[l] = lo ? 1.0f : 0.0f;           \
					trig_next[l] = (float)v->trig_next;  \
					gliding |= v->glide_left > 0;        \
					moving = 1;                          \
				}                                            \
				unsigned d = midi_lane_due(v, next[l],       \
				    frames);                                 \
				due = d < due ? d : due;                     \
			}                                                    \
		}                                                            \
		if (t == 0 && !moving && !gliding && !MIDI_ANY(vi,           \
		    (tr != 0.0f) | (low != 0.0f) | (trig_next != 0.0f))) {   \
			/* until the next event every output holds: whole    \
			 * tiles of it are stored as they are */             \
			unsigned end = due < frames ? due : frames;          \
			unsigned k = (end - i) / W * W;                      \
			if (k > 0) {                                         \
				bend = bend_to;                              \
				range = range_to;                            \
				mod = mod_to;                                \
				vf hold[MIDI_N_OUT];                         \
				hold[MIDI_PITCH] = pitch + bend * range *    \
				    (1.0f / 12.0f);                          \
				hold[MIDI_GATE] = held;                      \
				hold[MIDI_VELOCITY] = velocity;              \
				hold[MIDI_TRIG] = tr;                        \
				hold[MIDI_MOD] = mod;                        \
				for (unsigned o = 0; o < MIDI_N_OUT; o++)    \
					for (unsigned l = 0; l < n; l++) {   \
						vf v = (vf){ 0 } +           \
						    hold[o][l];              \
						for (unsigned f = 0; f < k;  \
						    f += W)                  \
							memcpy(y[o][l] + i + \
							    f, &v, sizeof v); \
					}                                    \
				i += k - 1;                                  \
				continue;                                    \
			}                                                    \
		}                                                            \
		if (gliding) {                                               \
			/* linear from glide_from, on target at the end */   \
			vi active = glide_left > 0;                          \
			glide_left += active;                                \
			vf p = pitch_target + (glide_from - pitch_target) *  \
			    (__builtin_convertvector(glide_left, vf) /       \
			    glide_len);                                      \
			pitch = MIDI_SELECT(vf, vi, active, p, pitch);       \
		}                                                            \
		if (moving) {                                                \
			MIDI_SMOOTH(vf, vi, bend, bend_to, bend_coef);       \
			MIDI_SMOOTH(vf, vi, range, range_to, range_coef);    \
			MIDI_SMOOTH(vf, vi, mod, mod_to, mod_coef);          \
		} else {                                                     \
			bend = bend_to;                                      \
			range = range_to;                                    \
			mod = mod_to;                                        \
		}                                                            \
		tile[MIDI_PITCH][t] = pitch + bend * range * (1.0f / 12.0f); \
		tile[MIDI_GATE][t] = MIDI_SELECT(vf, vi,                     \
		    (held != 0.0f) & (low == 0.0f), (vf){ 0 } + 1.0f,        \
		    (vf){ 0 });                                              \
		tile[MIDI_VELOCITY][t] = velocity;                           \
		tile[MIDI_TRIG][t] = tr;                                     \
		tile[MIDI_MOD][t] = mod;                                     \
		for (unsigned o = 0; o < MIDI_N_OUT; o++) {                  \
			if (t == W - 1)                                      \
				tile_write(y[o], n, i - t, tile[o]);         \
			else if (i == frames - 1)                            \
				tile_write_part(y[o], n, i - t,              \
				    (const float *)tile[o], W, t + 1);       \
		}                                                            \
	}                                                                    \
	for (unsigned l = 0; l < n; l++) {                                   \
		m[l]->pitch = pitch[l];                                      \
		m[l]->glide_left = (uint32_t)glide_left[l];                  \
		m[l]->trig_next = trig_next[l] != 0.0f;                      \
		m[l]->bend.cur = bend[l];                                    \
		m[l]->range.cur = range[l];                                  \
		m[l]->mod.cur = mod[l];                                      \
		m[l]->n_queued = 0;                                          \
	}                                                                    \
}

/* Lane l's note state, from its struct into the kernel's vectors (events
 * change it; frame by frame only the pitch and the glide count move). */
#define MIDI_LANE_NOTE(l) do {                                               \
	pitch_target[l] = m[l]->pitch_target;                                \
	glide_from[l] = m[l]->glide_from;                                    \
	glide_len[l] = (float)m[l]->glide_len;                               \
	held[l] = m[l]->held ? 1.0f : 0.0f;                                  \
	velocity[l] = m[l]->velocity;                                        \
	bend_to[l] = m[l]->bend.target;                                      \
	mod_to[l] = m[l]->mod.target;                                        \
} while (0)

/* The frame on which event `next` of m's sorted queue is applied: its
 * own, or the block's last if it is later; `frames` if there is none. */
static inline unsigned
midi_lane_due(const struct midi *m, unsigned next, unsigned frames)
{
	if (next >= m->n_queued)
		return frames;
	return m->queue[next].frame < frames - 1 ? m->queue[next].frame :
	    frames - 1;
}

MIDI_LANES_KERNEL(midi_lanes_sse2, 4, lanes_v4, lanes_v4i, , tile_write4)
MIDI_LANES_KERNEL(midi_lanes_avx2, 8, lanes_v8, lanes_v8i,
    __attribute__((target("avx2"))), tile_write8)

/* Run `lanes` voices side by side on `path`: on AVX2 all of them in one
 * eight-lane pass, on SSE2 four at a time; a single voice goes through
 * process. */
static void
midi_process_lanes(void *const *self, const float *const *const *in,
    float *const *const *out, unsigned lanes, unsigned frames, unsigned path)
{
	if (lanes == 1) {
		midi_process(self[0], in[0], out[0], frames);
		return;
	}
	lanes_count(lanes, frames);
	if (path == LANES_AVX2) {
		midi_lanes_avx2(self, out, lanes, frames);
		return;
	}
	for (unsigned l = 0; l < lanes; l += 4)
		midi_lanes_sse2(self + l, out + l,
		    lanes - l < 4 ? lanes - l : 4, frames);
}
#endif /* __x86_64__: lane kernels */

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
	.outputs_bounded = 1,
	.params = midi_params,
	.n_params = MIDI_N_P,
	.init = midi_init,
	.set_param = midi_set_param,
	.event = midi_event,
	.process = midi_process,
#if defined(__x86_64__)
	.process_lanes = midi_process_lanes,
#endif
};
