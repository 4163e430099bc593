/*
 * tests/midi_voices_test.c — the voice allocator's rules (idle voices first,
 * then the oldest released, then the oldest held; note off finds the newest
 * voice holding the note; steals flagged), and the midi module's sample
 * accuracy: gate, pitch, velocity and trig change on exactly the frames of
 * their events; bend; a steal drops the gate for exactly one sample.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "voices.h"

#define RATE 48000.0f
#define BLOCK 64

/* Count a check as passed or failed, printing it either way. */
static void
check(int ok, const char *what)
{
	if (ok)
		printf("%s: ok\n", what);
	else
		fail("%s", what);
}

/* Note on, expecting voice `want` and stolen flag `want_stolen`. */
static void
expect_on(struct voices *v, unsigned note, int want, int want_stolen,
    const char *why)
{
	int stolen = -1;
	int got = voices_note_on(v, note, 100, &stolen);
	char what[200];

	snprintf(what, sizeof what,
	    "allocator: note on %u -> voice %d stolen %d (want %d, %d: %s)",
	    note, got, stolen, want, want_stolen, why);
	check(got == want && stolen == want_stolen, what);
}

/* Note off, expecting voice `want` (-1: none). */
static void
expect_off(struct voices *v, unsigned note, int want, const char *why)
{
	int got = voices_note_off(v, note);
	char what[200];

	snprintf(what, sizeof what,
	    "allocator: note off %u -> voice %d (want %d: %s)", note, got, want,
	    why);
	check(got == want, what);
}

/* The allocation rules on four voices, and the VOICES_MAX limit. */
static void
test_allocator(void)
{
	static struct voices v;    /* static: about 96 KB */

	voices_init(&v, 4);
	expect_on(&v, 60, 0, 0, "idle voices in order");
	expect_on(&v, 61, 1, 0, "idle");
	expect_off(&v, 60, 0, "the voice holding it");
	expect_on(&v, 62, 2, 0, "a never-used voice before a released one");
	expect_on(&v, 63, 3, 0, "idle");
	expect_on(&v, 64, 0, 1, "the only released voice, stolen");
	expect_on(&v, 65, 1, 1, "all held: the oldest held (61)");
	expect_off(&v, 63, 3, "");
	expect_off(&v, 62, 2, "");
	expect_on(&v, 66, 3, 1, "the oldest released (63 before 62)");
	expect_on(&v, 67, 2, 1, "the remaining released");
	expect_off(&v, 99, -1, "no voice holds it");
	expect_off(&v, 66, 3, "");
	expect_off(&v, 66, -1, "already released");
	voices_silent(&v, 3);
	expect_on(&v, 68, 3, 0, "a voice marked silent is idle again");

	/* the same note twice: note off takes the newest first */
	voices_init(&v, 4);
	expect_on(&v, 70, 0, 0, "");
	expect_on(&v, 70, 1, 0, "same note, new voice");
	expect_off(&v, 70, 1, "newest voice holding 70");
	expect_off(&v, 70, 0, "then the older one");

	voices_init(&v, 4);
	expect_on(&v, 40, 0, 0, "");
	expect_on(&v, 41, 1, 0, "");
	expect_on(&v, 42, 2, 0, "");
	int rel[VOICES_MAX];
	unsigned k = voices_all_off(&v, rel);
	check(k == 3 && rel[0] == 0 && rel[1] == 1 && rel[2] == 2,
	    "allocator: all off releases the 3 held voices, in index order");
	expect_off(&v, 41, -1, "after all off");
	expect_on(&v, 43, 3, 0, "the idle voice before released ones");
	expect_on(&v, 44, 0, 1, "then the oldest released");

	/* the limit: VOICES_MAX voices, one note more steals the oldest */
	voices_init(&v, VOICES_MAX + 1000);
	check(v.n == VOICES_MAX, "allocator: voices clamped to VOICES_MAX");
	int ok = 1, stolen;
	for (unsigned i = 0; i < VOICES_MAX; i++)
		if (voices_note_on(&v, i & 127, 1, &stolen) != (int)i || stolen)
			ok = 0;
	check(ok, "allocator: VOICES_MAX notes take every idle voice in order");
	expect_on(&v, 1, 0, 1, "all held: the oldest");
	expect_off(&v, 1, 0, "newest voice holding note 1 is voice 0 now");
	/* then the last voice that took note 1 in the loop */
	expect_off(&v, 1, VOICES_MAX - 127, "the newest left holding note 1");
}

/* Send an event to a midi instance. */
static void
send(struct inst *m, unsigned frame, int kind, int note, int vel, float amt)
{
	struct note_event ev = {
		.frame = frame, .kind = (uint8_t)kind, .note = (uint8_t)note,
		.velocity = (uint8_t)vel, .amount = amt,
	};
	m->type->event(m->state, &ev);
}

enum { PITCH, GATE, VEL, TRIG, MOD, NOUT };

/* Run one block of `n` frames of a midi instance into out[]. */
static void
run_block(struct inst *m, float out[NOUT][BLOCK], unsigned n)
{
	float *op[NOUT] = { out[0], out[1], out[2], out[3], out[4] };
	inst_run(m, NULL, op, n, n);
}

/* Events at frames 0, 17 and 63 switch gate/pitch/velocity/trig there. */
static void
test_timing(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];
	int bad = 0;

	check(module_output_index(m->type, "pitch") == PITCH &&
	    module_output_index(m->type, "gate") == GATE &&
	    module_output_index(m->type, "velocity") == VEL &&
	    module_output_index(m->type, "trig") == TRIG,
	    "midi: outputs pitch, gate, velocity, trig");
	/* queued out of order on purpose: process applies them by frame */
	send(m, 63, NOTE_EVENT_ON, 72, 64, 0);
	send(m, 0, NOTE_EVENT_ON, 60, 100, 0);
	send(m, 17, NOTE_EVENT_OFF, 60, 0, 0);
	run_block(m, o, BLOCK);
	for (unsigned i = 0; i < BLOCK; i++) {
		float g = i < 17 || i == 63 ? 1.0f : 0.0f;
		float p = i < 63 ? (60 - 69) / 12.0f : (72 - 69) / 12.0f;
		float v = i < 63 ? 100 / 127.0f : 64 / 127.0f;
		float t = i == 0 || i == 63 ? 1.0f : 0.0f;
		if (o[GATE][i] != g || fabsf(o[PITCH][i] - p) > 1e-7f ||
		    fabsf(o[VEL][i] - v) > 1e-7f || o[TRIG][i] != t) {
			if (bad++ < 4)
				printf("  frame %u: pitch %g gate %g vel %g trig %g\n",
				    i, o[PITCH][i], o[GATE][i], o[VEL][i],
				    o[TRIG][i]);
		}
	}
	report("midi: frames wrong for events at 0, 17, 63", bad, "frames",
	    "==", 0, bad == 0);

	/* before the first event of a block nothing changes */
	send(m, 5, NOTE_EVENT_OFF, 72, 0, 0);
	run_block(m, o, BLOCK);
	check(o[GATE][4] == 1.0f && o[GATE][5] == 0.0f &&
	    fabsf(o[PITCH][40] - 0.25f) < 1e-7f && o[TRIG][0] == 0.0f,
	    "midi: off at frame 5 of the next block, pitch kept for release");

	/* an off for another note leaves the gate alone */
	send(m, 0, NOTE_EVENT_ON, 69, 127, 0);
	send(m, 10, NOTE_EVENT_OFF, 70, 0, 0);
	run_block(m, o, BLOCK);
	check(o[GATE][63] == 1.0f && o[PITCH][0] == 0.0f && o[VEL][0] == 1.0f,
	    "midi: A4 is pitch 0, velocity 127 is 1, a foreign off is ignored");
	inst_free(m);
}

/* Bend by half and full wheel at two ranges; starts on its frame. */
static void
test_bend(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];

	send(m, 0, NOTE_EVENT_ON, 69, 100, 0);
	run_block(m, o, BLOCK);
	send(m, 20, NOTE_EVENT_BEND, 0, 0, 0.5f);
	run_block(m, o, BLOCK);
	check(o[PITCH][19] == 0.0f && o[PITCH][20] > 0.0f,
	    "midi: bend starts on its frame (20)");
	for (int i = 0; i < 100; i++)       /* 0.13 s: settled */
		run_block(m, o, BLOCK);
	double err = fabs(o[PITCH][63] - 1.0 / 12.0) * 1200.0;
	report("midi: bend +0.5 at range 2 -> +1 semitone, error", err, "cents",
	    "<=", 0.01, err <= 0.01);
	inst_set(m, "bend", 12.0f);
	send(m, 0, NOTE_EVENT_BEND, 0, 0, -1.0f);
	for (int i = 0; i < 100; i++)
		run_block(m, o, BLOCK);
	err = fabs(o[PITCH][63] + 1.0) * 1200.0;
	report("midi: bend -1 at range 12 -> -1 octave, error", err, "cents",
	    "<=", 0.01, err <= 0.01);
	inst_free(m);
}

/* The mod wheel reaches the mod output, from its frame, smoothed; a note
 * on while held (mono legato) keeps the gate high with no trig edge lost. */
static void
test_mod_and_legato(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];

	send(m, 0, NOTE_EVENT_ON, 60, 100, 0);
	run_block(m, o, BLOCK);
	send(m, 10, NOTE_EVENT_MOD, 0, 0, 1.0f);
	run_block(m, o, BLOCK);
	check(o[MOD][9] == 0.0f && o[MOD][10] > 0.0f && o[MOD][10] < 0.1f,
	    "midi: mod wheel starts on its frame, smoothed");
	for (int i = 0; i < 200; i++)
		run_block(m, o, BLOCK);
	check(o[MOD][63] == 1.0f, "midi: mod wheel settles on its value");
	send(m, 5, NOTE_EVENT_ON, 64, 90, 0);
	run_block(m, o, BLOCK);
	int gate_high = 1;
	for (int i = 0; i < BLOCK; i++)
		gate_high &= o[GATE][i] == 1.0f;
	check(gate_high && fabsf(o[PITCH][5] - (64 - 69) / 12.0f) < 1e-7f,
	    "midi: a note on while held changes pitch with the gate kept high");
	inst_free(m);
}

/* A steal drops the gate for exactly one sample, at its frame, then the
 * new note is high with a trig; also across a block boundary. */
static void
test_steal(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];

	send(m, 0, NOTE_EVENT_ON, 60, 100, 0);
	run_block(m, o, BLOCK);
	send(m, 30, NOTE_EVENT_STEAL, 67, 90, 0);
	run_block(m, o, BLOCK);
	int lows = 0;
	for (unsigned i = 0; i < BLOCK; i++)
		lows += o[GATE][i] < 0.5f;
	report("midi: steal at frame 30, low gate samples", lows, "", "==", 1,
	    lows == 1 && o[GATE][30] == 0.0f);
	check(o[TRIG][30] == 0.0f && o[TRIG][31] == 1.0f &&
	    fabsf(o[PITCH][30] - (67 - 69) / 12.0f) < 1e-7f &&
	    fabsf(o[VEL][31] - 90 / 127.0f) < 1e-7f && o[PITCH][29] == -0.75f,
	    "midi: steal sets the new pitch on the low frame, trig on the next");

	send(m, 63, NOTE_EVENT_STEAL, 48, 50, 0);
	run_block(m, o, BLOCK);
	int low63 = o[GATE][63] == 0.0f && o[GATE][62] == 1.0f;
	run_block(m, o, BLOCK);
	check(low63 && o[GATE][0] == 1.0f && o[TRIG][0] == 1.0f,
	    "midi: steal on the last frame rises on the next block's first");
	inst_free(m);

	/* midi -> adsr: the one low sample retriggers the envelope */
	struct inst *mi = inst_new("midi", RATE, 1);
	struct inst *env = inst_new("adsr", RATE, 1);
	inst_set(env, "attack", 0.005f);
	inst_set(env, "decay", 0.1f);
	inst_set(env, "sustain", 0.5f);
	size_t blocks = 2 * (size_t)RATE / BLOCK, steal_block = blocks / 2;
	float *e = xcalloc_test(blocks * BLOCK, sizeof(float));
	for (size_t b = 0; b < blocks; b++) {
		if (b == 0)
			send(mi, 0, NOTE_EVENT_ON, 60, 100, 0);
		if (b == steal_block)
			send(mi, 10, NOTE_EVENT_STEAL, 62, 100, 0);
		run_block(mi, o, BLOCK);
		float *ep[1] = { e + b * BLOCK };
		const float *gp[1] = { o[GATE] };
		env->type->process(env->state, gp, ep, BLOCK);
	}
	size_t s0 = steal_block * BLOCK + 10;
	float top = 0;
	for (size_t i = s0; i < s0 + (size_t)(0.006 * RATE); i++)
		if (e[i] > top)
			top = e[i];
	double step = fabs(e[s0 + 1] - e[s0]);
	check(e[s0] > 0.49f && e[s0] < 0.51f && top == 1.0f && step < 0.01,
	    "midi+adsr: steal retriggers the attack from sustain, no jump");
	free(e);
	inst_free(mi);
	inst_free(env);
}

/* Glide: linear in octaves, reaching the new note after `glide` s. */
static void
test_glide(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];
	size_t n = (size_t)(0.1f * RATE) / BLOCK;   /* 75 blocks */

	inst_set(m, "glide", 0.1f);
	send(m, 0, NOTE_EVENT_ON, 57, 100, 0);
	run_block(m, o, BLOCK);
	check(o[PITCH][0] == -1.0f, "midi: the first note does not glide");
	send(m, 0, NOTE_EVENT_ON, 69, 100, 0);
	float half = 0, end = 0;
	for (size_t b = 0; b <= n; b++) {
		run_block(m, o, BLOCK);
		if (b == n / 2)
			half = o[PITCH][BLOCK - 1];
		if (b == n - 1)
			end = o[PITCH][BLOCK - 1];
	}
	/* after 38 blocks (2432 frames) of 4800: -1 + 2432/4800 */
	double want = -1.0 + (double)((n / 2 + 1) * BLOCK) / 4800.0;
	report("midi: glide 0.1 s, pitch error halfway", fabs(half - want) * 1200,
	    "cents", "<=", 0.1, fabs(half - want) * 1200 <= 0.1);
	check(end == 0.0f && o[PITCH][BLOCK - 1] == 0.0f,
	    "midi: glide 0.1 s lands exactly on the new note after 4800 frames");
	inst_free(m);
}

/* More than a block's queue of events: the excess is dropped, no harm. */
static void
test_overflow(void)
{
	struct inst *m = inst_new("midi", RATE, 1);
	float o[NOUT][BLOCK];

	for (unsigned i = 0; i < 100; i++)
		send(m, i % BLOCK, i % 2 ? NOTE_EVENT_OFF : NOTE_EVENT_ON, 60, 100, 0);
	run_block(m, o, BLOCK);
	run_block(m, o, BLOCK);
	check(o[GATE][0] == 0.0f && o[TRIG][0] == 0.0f,
	    "midi: 100 events in a block (64 kept) leave a sane state");
	inst_free(m);
}

int
main(void)
{
	test_allocator();
	test_timing();
	test_bend();
	test_steal();
	test_mod_and_legato();
	test_glide();
	test_overflow();
	return test_status();
}
