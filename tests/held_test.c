/*
 * tests/held_test.c — the parent's table of notes sounding (src/held.c):
 * it follows note on and off, the sustain pedal, all notes off and all
 * sound off as the DSP's voice routing does, in frame order within a
 * cycle, and replays the sounding notes oldest first, with the pedal and
 * the notes only the pedal holds, so that a new DSP child sounds the same
 * notes.
 */
#include <string.h>

#include "check.h"
#include "held.h"
#include "module.h"

/* One event at `frame`. */
static struct region_midi
ev(unsigned frame, unsigned kind, unsigned note, unsigned velocity, float amount)
{
	return (struct region_midi){ .frame = frame, .kind = (uint8_t)kind,
	    .note = (uint8_t)note, .velocity = (uint8_t)velocity, .amount = amount };
}

int
main(void)
{
	struct held_notes h;
	struct region_midi in[8], out[3 + 2 * 128];
	unsigned n;

	/* nothing held: nothing replayed */
	held_init(&h);
	CHECK(held_replay(&h, out, 259) == 0, "empty table replays nothing");

	/* two notes struck in two cycles, replayed oldest first, with velocity */
	in[0] = ev(10, NOTE_EVENT_ON, 64, 90, 0);
	held_track(&h, in, 1, 256);
	in[0] = ev(5, NOTE_EVENT_ON, 60, 100, 0);
	held_track(&h, in, 1, 256);
	CHECK(held_count(&h) == 2, "two notes held, got %u", held_count(&h));
	CHECK(h.clock == 512, "clock counts frames: %llu", (unsigned long long)h.clock);
	CHECK(h.since[64] == 10 && h.since[60] == 261, "struck at frames 10 and 261");
	n = held_replay(&h, out, 259);
	CHECK(n == 2 && out[0].kind == NOTE_EVENT_ON && out[0].note == 64 &&
	    out[0].velocity == 90 && out[1].note == 60 && out[1].velocity == 100,
	    "replay: note on 64 then 60 (oldest first), got %u events", n);
	CHECK(out[0].frame == 0 && out[0].origin == 0, "replayed at frame 0, unpublished");

	/* events out of frame order in one cycle apply in frame order: the
	 * control plane's note on at frame 0 comes after a MIDI note off at 100 */
	held_init(&h);
	in[0] = ev(100, NOTE_EVENT_OFF, 48, 0, 0);
	in[1] = ev(0, NOTE_EVENT_ON, 48, 80, 0);
	held_track(&h, in, 2, 256);
	CHECK(held_count(&h) == 0, "on at 0 then off at 100: nothing held");
	in[0] = ev(0, NOTE_EVENT_OFF, 50, 0, 0);
	in[1] = ev(0, NOTE_EVENT_ON, 50, 80, 0);
	held_track(&h, in, 2, 256);
	CHECK(held_count(&h) == 1, "off then on at the same frame: held (stable order)");

	/* the pedal: a note released under it still sounds; replayed as pedal
	 * down, note on, note off; the pedal's release ends it */
	held_init(&h);
	in[0] = ev(0, NOTE_EVENT_SUSTAIN, 0, 0, 1.0f);
	in[1] = ev(1, NOTE_EVENT_ON, 67, 70, 0);
	in[2] = ev(2, NOTE_EVENT_OFF, 67, 0, 0);
	in[3] = ev(3, NOTE_EVENT_ON, 72, 60, 0);
	held_track(&h, in, 4, 256);
	CHECK(held_count(&h) == 2, "a released note under the pedal still sounds");
	n = held_replay(&h, out, 259);
	CHECK(n == 4 && out[0].kind == NOTE_EVENT_SUSTAIN && out[0].amount >= 0.5f &&
	    out[1].kind == NOTE_EVENT_ON && out[1].note == 67 &&
	    out[2].kind == NOTE_EVENT_ON && out[2].note == 72 &&
	    out[3].kind == NOTE_EVENT_OFF && out[3].note == 67,
	    "replay: pedal, on 67, on 72, off 67 (sustained), got %u", n);
	in[0] = ev(0, NOTE_EVENT_SUSTAIN, 0, 0, 0.0f);
	held_track(&h, in, 1, 256);
	CHECK(held_count(&h) == 1, "pedal up ends the sustained note, the held one stays");
	n = held_replay(&h, out, 259);
	CHECK(n == 1 && out[0].note == 72, "replay after pedal up: note 72 only");

	/* bend and mod wheel come back when not at rest */
	in[0] = ev(0, NOTE_EVENT_BEND, 0, 0, -0.5f);
	in[1] = ev(0, NOTE_EVENT_MOD, 0, 0, 0.25f);
	held_track(&h, in, 2, 256);
	n = held_replay(&h, out, 259);
	CHECK(n == 3 && out[0].kind == NOTE_EVENT_BEND && out[0].amount == -0.5f &&
	    out[1].kind == NOTE_EVENT_MOD && out[1].amount == 0.25f &&
	    out[2].kind == NOTE_EVENT_ON, "replay: bend, mod, then notes");

	/* all notes off and all sound off end everything, pedal included */
	in[0] = ev(0, NOTE_EVENT_SUSTAIN, 0, 0, 1.0f);
	in[1] = ev(0, NOTE_EVENT_ON, 40, 1, 0);
	in[2] = ev(5, NOTE_EVENT_ALL_OFF, 0, 0, 0);
	held_track(&h, in, 3, 256);
	CHECK(held_count(&h) == 0 && !h.pedal, "all notes off ends every note and the pedal");
	in[0] = ev(0, NOTE_EVENT_ON, 41, 1, 0);
	in[1] = ev(1, NOTE_EVENT_SOUND_OFF, 0, 0, 0);
	held_track(&h, in, 2, 256);
	CHECK(held_count(&h) == 0, "all sound off ends every note");

	/* every key down at once: all 128 replayed, each note once; and a
	 * short buffer is never overrun */
	held_init(&h);
	for (unsigned note = 0; note < 128; note++) {
		in[0] = ev(0, NOTE_EVENT_ON, 127 - note, 100, 0);
		held_track(&h, in, 1, 1);
	}
	n = held_replay(&h, out, 259);
	int order_ok = n == 128;
	for (unsigned i = 0; i < n && order_ok; i++)
		order_ok = out[i].note == 127 - i;
	CHECK(order_ok, "128 notes replayed in the order struck (got %u)", n);
	memset(out, 0xee, sizeof out);
	n = held_replay(&h, out, 5);
	CHECK(n == 5 && out[5].kind == 0xee, "a 5-event buffer gets 5 events, no more");

	/* velocity 0 as a note on (defensive): stored as 1, never silent */
	held_init(&h);
	in[0] = ev(0, NOTE_EVENT_ON, 30, 0, 0);
	held_track(&h, in, 1, 64);
	n = held_replay(&h, out, 259);
	CHECK(n == 1 && out[0].velocity == 1, "velocity clamped to 1..127");
	return check_verdict();
}
