/*
 * tests/midimap_graph_test.c — controller mappings in the DSP graph: a CC
 * changes its parameter at the event's exact frame and smoothly after it;
 * a 14-bit pair gives its full resolution; velocity and polyphonic
 * aftertouch set only their own voice; channel-bound mappings ignore other
 * channels; a recompiled graph keeps the value the knob gave, unless a
 * `set` came after it; the exponential curve of a frequency.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "midimap.h"
#include "util.h"

#define RATE 48000.0f
#define N 256

/* Load patch text or fail the test. */
static void
load(struct patch *p, const char *text)
{
	struct patch_error err;
	patch_init(p, 1, 1);
	if (patch_load_text(p, text, "test", &err) != 0) {
		char msg[512];
		patch_error_format(&err, msg, sizeof msg);
		fprintf(stderr, "patch: %s\n", msg);
		exit(99);
	}
}

static float ones[N], outbuf[N];

/* One block of N frames with a constant 1 on in.1, into outbuf. */
static void
run(struct graph *g)
{
	const float *in[1] = { ones };
	float *out[1] = { outbuf };
	graph_process(g, in, out, N);
}

/* Queue an event. */
static void
event(struct graph *g, unsigned frame, unsigned kind, unsigned note,
    unsigned velocity, unsigned channel, float amount)
{
	struct note_event ev = { .frame = frame, .kind = (uint8_t)kind,
	    .note = (uint8_t)note, .velocity = (uint8_t)velocity,
	    .channel = (uint8_t)channel, .amount = amount };
	graph_event(g, &ev);
}

/* Run blocks until the smoothing has settled; the last output. */
static float
settle(struct graph *g)
{
	for (int i = 0; i < 40; i++)
		run(g);
	return outbuf[N - 1];
}

static void
test_frame_exact(void)
{
	static struct patch p;
	load(&p, "global vca amp\nconnect in.1 amp.in\nconnect amp.out out.1\n"
	    "map cc 7 amp.gain min 0 max 1\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	for (int i = 0; i < N; i++)
		ones[i] = 1.0f;
	settle(g);
	event(g, 100, NOTE_EVENT_CC, 7, 0, 0, 0.0f);
	run(g);
	int before = 1;
	for (int i = 0; i < 100; i++)
		before &= outbuf[i] == 1.0f;
	float step = 0.0f;
	for (int i = 1; i < N; i++)
		step = fmaxf(step, fabsf(outbuf[i] - outbuf[i - 1]));
	if (!before || !(outbuf[101] < 1.0f))
		fail("CC at frame 100: out[99] %g out[100] %g out[101] %g: want 1, "
		    "then falling", outbuf[99], outbuf[100], outbuf[101]);
	else
		printf("ok: CC 7 at frame 100 acts there: out[99] %g, out[101] %.6f\n",
		    outbuf[99], outbuf[101]);
	report("largest step after the CC (smoothed, not a jump of 1)", step, "",
	    "<=", 0.05, step <= 0.05);
	float end = settle(g);
	report("gain after CC 7 = 0", end, "", "<=", 1e-4, end <= 1e-4);
	/* a flood: a controller on every frame of a block, the last at 127 */
	for (unsigned f = 0; f < N; f++)
		event(g, f, NOTE_EVENT_CC, 7, f == N - 1 ? 127 : f % 100, 0, 0.0f);
	run(g);
	float flood = settle(g);
	report("gain after a CC on each of 256 frames, the last 127", flood, "",
	    "~=", 1.0, fabsf(flood - 1.0f) < 1e-4f);
	/* a channel-bound map ignores other channels */
	graph_free(g);
	load(&p, "global vca amp\nconnect in.1 amp.in\nconnect amp.out out.1\n"
	    "map cc 7 ch 3 amp.gain min 0 max 1\n");
	g = graph_compile(&p, RATE, NULL);
	event(g, 0, NOTE_EVENT_CC, 7, 0, 1, 0.0f);        /* channel 2 */
	float other = settle(g);
	event(g, 0, NOTE_EVENT_CC, 7, 0, 2, 0.0f);        /* channel 3 */
	float own = settle(g);
	if (other != 1.0f || own > 1e-4f)
		fail("map cc 7 ch 3: channel 2 gave %g (want 1), channel 3 %g (want 0)",
		    other, own);
	else
		printf("ok: map ... ch 3 ignores channel 2 and follows channel 3\n");
	graph_free(g);
}

static void
test_cc14(void)
{
	static struct patch p;
	load(&p, "global vca amp\nconnect in.1 amp.in\nconnect amp.out out.1\n"
	    "map cc14 1 amp.gain min 0 max 2\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	event(g, 0, NOTE_EVENT_CC, 1, 64, 0, 0.0f);
	event(g, 10, NOTE_EVENT_CC, 33, 1, 0, 0.0f);
	float v = settle(g), want = 2.0f * (64 * 128 + 1) / 16383.0f;
	report("cc14 1: MSB 64 LSB 1, error against 8193/16383 x 2", fabsf(v - want),
	    "", "<=", 1e-5, fabsf(v - want) <= 1e-5);
	graph_free(g);
}

static void
test_per_voice(void)
{
	static struct patch p;
	load(&p, "poly 2\nvoice midi note\nvoice vca amp\nconnect in.1 amp.in\n"
	    "connect note.gate amp.cv\nconnect amp.out out.1\n"
	    "map velocity amp.gain min 0 max 1\nmap polypressure amp.gain min 0 max 1\n");
	struct graph *g = graph_compile(&p, RATE, NULL);
	event(g, 0, NOTE_EVENT_ON, 60, 127, 0, 0.0f);
	float one = settle(g);
	event(g, 0, NOTE_EVENT_ON, 67, 1, 0, 0.0f);
	float two = settle(g), want = 1.0f + 1.0f / 127.0f;
	if (fabsf(one - 1.0f) > 1e-4f || fabsf(two - want) > 1e-4f)
		fail("velocity per voice: %g then %g, want 1 then %g", one, two, want);
	else
		printf("ok: velocity sets its own voice only: 127 gives %g, then a "
		    "second note at 1 adds %g\n", one, two - one);
	event(g, 0, NOTE_EVENT_POLY_PRESSURE, 60, 0, 0, 0.0f);
	float left = settle(g);
	if (fabsf(left - 1.0f / 127.0f) > 1e-4f)
		fail("poly aftertouch 0 on note 60: %g left, want %g (note 67's)",
		    left, 1.0f / 127.0f);
	else
		printf("ok: polyphonic aftertouch on note 60 silences its voice only "
		    "(%g left)\n", left);
	graph_free(g);
}

static void
test_carry(void)
{
	static struct patch p;
	load(&p, "global vca amp\nconnect in.1 amp.in\nconnect amp.out out.1\n"
	    "map pressure amp.gain min 0 max 1\n");
	struct graph *a = graph_compile(&p, RATE, NULL);
	event(a, 0, NOTE_EVENT_PRESSURE, 0, 0, 0, 0.25f);
	settle(a);
	/* the patch still says gain 1: a recompile keeps the knob's 0.25 */
	struct graph *b = graph_compile(&p, RATE, a);
	graph_continue(b, a);
	float kept = settle(b);
	report("gain after a recompile, the knob at 0.25", kept, "", "~=", 0.25,
	    fabsf(kept - 0.25f) < 1e-4f);
	/* a set after the knob wins over it in the next recompile */
	graph_set_param(b, 0, 0, 0.5f);
	struct graph *c = graph_compile(&p, RATE, b);
	graph_continue(c, b);
	float set = settle(c);
	report("gain after set 0.5 then a recompile (patch value 1)", set, "",
	    "~=", 1.0, fabsf(set - 1.0f) < 1e-4f);
	graph_free(a);
	graph_free(b);
	graph_free(c);
}

static void
test_curve(void)
{
	static struct patch p;
	load(&p, "global svf flt\nmap cc 74 flt.cutoff\nmap cc 75 flt.q\n");
	float mid = midimap_value(&p.maps[0], 0.5f);
	report("cutoff at the knob's middle (exponential 20..20000 Hz)", mid, "Hz",
	    "~=", sqrt(20.0 * 20000.0), fabsf(mid - sqrtf(20.0f * 20000.0f)) < 0.5f);
	float q = midimap_value(&p.maps[1], 0.5f);
	report("q at the knob's middle (linear 0.5..40)", q, "", "~=", 20.25,
	    fabsf(q - 20.25f) < 1e-4f);
}

int
main(void)
{
	test_frame_exact();
	test_cc14();
	test_per_voice();
	test_carry();
	test_curve();
	return test_status();
}
