/*
 * tests/scope_test.c — the signal side of the scope and spectrum views
 * (src/scope.c) and the probe's shared ring, by property: the output tap
 * keeps frames whole and in order and marks a gap where the UI fell
 * behind; histories make bad samples harmless; the trigger finds rising
 * crossings and not noise; rows and columns map as the axes say; a 1 kHz
 * sine's spectrum peaks in the 1 kHz column and nowhere else; the peak
 * hold falls; a lying DSP child's probe ring gives nothing, not a crash.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "region.h"
#include "scope.h"

#define RATE 48000.0

static float buf[SCOPE_HISTORY];

/* The tap: frames whole, channels apart, a full ring drops whole blocks
 * and the histories get a gap there. */
static void
test_tap(void)
{
	struct tap *t = tap_create(2, 1024);
	static struct scope_history h[2];
	float a[256], b[256];
	const float *chans[2] = { a, b };
	unsigned next = 0;

	scope_history_clear(&h[0]);
	scope_history_clear(&h[1]);
	for (int block = 0; block < 3; block++) {
		for (unsigned i = 0; i < 256; i++) {
			a[i] = (float)(next + i);
			b[i] = -(float)(next + i);
		}
		next += 256;
		tap_push(t, chans, 256);
	}
	unsigned got = tap_drain(t, h);
	CHECK(got == 768, "drained %u frames, pushed 768", got);
	unsigned n = scope_history_latest(&h[0], buf, 10000);
	CHECK(n == 768, "history holds %u, want 768", n);
	int ok = 1;
	for (unsigned i = 0; i < n; i++)
		ok &= buf[i] == (float)i;
	n = scope_history_latest(&h[1], buf, 10000);
	for (unsigned i = 0; i < n; i++)
		ok &= buf[i] == -(float)i;
	CHECK(ok, "frames kept in order, each channel its own");

	/* the UI does not read: 1024 frames fit, the 5th block does not */
	for (int block = 0; block < 5; block++) {
		for (unsigned i = 0; i < 256; i++)
			a[i] = b[i] = (float)(next + i);
		next += 256;
		tap_push(t, chans, 256);
	}
	CHECK(tap_dropped(t) == 1, "one block dropped, counted %llu",
	    (unsigned long long)tap_dropped(t));
	got = tap_drain(t, h);
	CHECK(got == 1024, "the four blocks that fitted came through (%u)", got);
	/* what follows is unbroken from here on, not joined to the past */
	for (unsigned i = 0; i < 256; i++)
		a[i] = b[i] = (float)(next + i);
	tap_push(t, chans, 256);
	tap_drain(t, h);
	n = scope_history_latest(&h[0], buf, 10000);
	CHECK(n == 256 && buf[0] == (float)next, "after the gap the history is the "
	    "new run only (%u samples from %g)", n, n ? (double)buf[0] : -1.0);
	tap_free(t);
}

/* Histories: non-finite samples become 0 and are counted; huge ones are
 * held; the newest come back oldest first, across the wrap. */
static void
test_history(void)
{
	static struct scope_history h;
	float x[6] = { 1, NAN, INFINITY, -INFINITY, 1e30f, -1e30f };
	scope_history_clear(&h);
	scope_history_append(&h, x, 6, 1);
	unsigned n = scope_history_latest(&h, buf, 6);
	CHECK(n == 6 && buf[0] == 1 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0,
	    "non-finite samples read as 0");
	CHECK(buf[4] == SCOPE_MAX_ABS && buf[5] == -SCOPE_MAX_ABS, "huge samples "
	    "held at +-%g", (double)SCOPE_MAX_ABS);
	CHECK(h.replaced == 3, "3 replaced, counted %llu",
	    (unsigned long long)h.replaced);
	scope_history_clear(&h);
	for (unsigned i = 0; i < SCOPE_HISTORY + 1000; i++) {
		float v = (float)i;
		scope_history_append(&h, &v, 1, 1);
	}
	n = scope_history_latest(&h, buf, 100);
	CHECK(n == 100 && buf[99] == (float)(SCOPE_HISTORY + 999) &&
	    buf[0] == (float)(SCOPE_HISTORY + 900), "newest 100 across the wrap");
	n = scope_history_latest(&h, buf, SCOPE_HISTORY + 5);
	CHECK(n == SCOPE_HISTORY, "never more than the history holds (%u)", n);
}

/* The trigger: a rising zero crossing of a sine, the latest that leaves
 * a window; noise on a slow wave triggers once per period; none: -1. */
static void
test_trigger(void)
{
	const unsigned n = 4800, width = 296;
	for (unsigned i = 0; i < n; i++)
		buf[i] = 0.5f * (float)sin(2 * M_PI * 1000 * (i + 0.3) / RATE);
	long at = scope_trigger_find(buf, n, width, 0, 0.01f);
	CHECK(at > 0 && buf[at - 1] < 0 && buf[at] >= 0, "a rising zero crossing "
	    "(at %ld)", at);
	CHECK(at >= 0 && at + width <= n && at + width + 48 > n, "the latest that "
	    "leaves %u samples (at %ld of %u)", width, at, n);
	/* successive crossings are 48 samples apart: cut the signal short */
	long before = scope_trigger_find(buf, (unsigned)at + width - 1, width, 0, 0.01f);
	CHECK(at - before == 48, "crossings one period (48) apart: %ld", at - before);
	at = scope_trigger_find(buf, n, width, 0.25f, 0.01f);
	CHECK(at > 0 && buf[at - 1] < 0.25f && buf[at] >= 0.25f, "a level trigger "
	    "rises through its level");
	CHECK(scope_trigger_find(buf, n, width, 0.6f, 0.01f) == -1, "a level above "
	    "the signal never triggers");
	for (unsigned i = 0; i < n; i++)
		buf[i] = 0.25f;
	CHECK(scope_trigger_find(buf, n, width, 0, 0.01f) == -1, "DC: no trigger");
	CHECK(scope_trigger_find(buf, 10, width, 0, 0.01f) == -1, "too short: none");

	/* a 100 Hz sine with noise of +-0.02 around zero: without hysteresis it
	 * would cross many times per period; with it, once */
	srand(7);
	unsigned crossings = 0;
	for (unsigned i = 0; i < n; i++)
		buf[i] = (float)sin(2 * M_PI * 100 * i / RATE) +
		    0.04f * ((float)rand() / RAND_MAX - 0.5f);
	unsigned len = n;
	while ((at = scope_trigger_find(buf, len, 0, 0, 0.05f)) > 0) {
		crossings++;
		len = (unsigned)at;
	}
	CHECK(crossings >= 9 && crossings <= 10, "10 periods of noisy 100 Hz give "
	    "%u triggers, want 9 or 10", crossings);
}

/* Rows and columns: the axes as labelled. */
static void
test_mapping(void)
{
	CHECK(scope_row(1, 1, 15) == 0 && scope_row(-1, 1, 15) == 14 &&
	    scope_row(0, 1, 15) == 7, "+1 top, -1 bottom, 0 in the middle");
	CHECK(scope_row(5, 1, 15) == 0 && scope_row(-5, 1, 15) == 14 &&
	    scope_row(NAN, 1, 15) >= 0, "beyond the range: on the edge rows");
	CHECK(scope_range(0) == 1.0f / 1024 && scope_range(0.5f) == 0.5f &&
	    scope_range(0.6f) == 1 && scope_range(3) == 4 &&
	    scope_range(INFINITY) >= SCOPE_MAX_ABS, "ranges: powers of two");
	float x[8] = { 0, 1, 2, 3, 3, 2, 1, 0 }, lo[4], hi[4];
	scope_columns(x, 4, 2, lo, hi);
	CHECK(lo[0] == 0 && hi[0] == 1 && lo[1] == 1 && hi[1] == 3 &&
	    lo[2] == 2 && hi[2] == 3 && lo[3] == 0 && hi[3] == 2,
	    "columns span their samples and reach the previous column's last");
	for (unsigned c = 0; c < 74; c++) {
		double f = spectrum_column_freq(c + 0.5, 74, 20, 20000);
		if (spectrum_freq_column(f, 74, 20, 20000) != c) {
			CHECK(0, "column %u's centre %g Hz maps back to %u", c, f,
			    spectrum_freq_column(f, 74, 20, 20000));
			break;
		}
	}
	CHECK(spectrum_freq_column(5, 74, 20, 20000) == 0 &&
	    spectrum_freq_column(30000, 74, 20, 20000) == 73, "the axis clamps");
	CHECK(spectrum_row(0, 0, -96, 13) == 0 && spectrum_row(-96, 0, -96, 13) == 12 &&
	    spectrum_row(-48, 0, -96, 13) == 6, "dB rows: 0 top, -96 bottom");
	float peak[3] = { -10, -50, -200 }, now[3] = { -20, -40, -200 };
	spectrum_hold(peak, now, 3, 6);
	CHECK(peak[0] == -16 && peak[1] == -40, "the hold falls by its step, never "
	    "below the level now");
}

/* The spectrum of a 1 kHz sine at -6 dBFS: its column reads about -6 dB,
 * columns an octave away read far below. */
static void
test_spectrum(void)
{
	const unsigned size = 4096, cols = 74;
	static float db[4096 / 2 + 1];
	float col[74];
	struct spectrum *s = spectrum_create(size);
	CHECK(s != NULL && spectrum_create(1000) == NULL, "powers of two only");
	if (s == NULL)
		return;
	for (unsigned i = 0; i < size; i++)
		buf[i] = 0.5f * (float)sin(2 * M_PI * 1000 * i / RATE);
	spectrum_analyze(s, buf, db);
	spectrum_columns(db, size / 2 + 1, RATE, cols, 20, 20000, col);
	unsigned want = spectrum_freq_column(1000, cols, 20, 20000), best = 0;
	for (unsigned c = 1; c < cols; c++)
		if (col[c] > col[best])
			best = c;
	CHECK(best == want, "the peak is in column %u, 1 kHz's is %u", best, want);
	CHECK(fabsf(col[want] + 6.02f) < 1.5f, "it reads %.2f dB, want -6.0 +-1.5",
	    (double)col[want]);
	float far = -200;
	for (unsigned c = 0; c < cols; c++) {
		double f = spectrum_column_freq(c + 0.5, cols, 20, 20000);
		if ((f < 500 || f > 2000) && col[c] > far)
			far = col[c];
	}
	CHECK(far < -70, "an octave away and more, at most %.1f dB (want < -70)",
	    (double)far);
	/* bad samples are silence, not a NaN spectrum */
	buf[100] = NAN;
	buf[200] = INFINITY;
	spectrum_analyze(s, buf, db);
	int finite = 1;
	for (unsigned k = 0; k <= size / 2; k++)
		finite &= isfinite(db[k]);
	CHECK(finite, "non-finite samples leave every bin finite");
	spectrum_free(s);
}

/* The probe's ring in a region: what an honest child writes arrives; an
 * impossible head from a lying one reads as nothing (no out-of-bounds
 * read), and its samples are checked on the way into a history. */
static void
test_probe_ring(void)
{
	size_t size = region_size(256, 2, 2);
	void *mem = xaligned(size);
	memset(mem, 0, size);
	static struct region parent, child;
	static struct scope_history h;
	char err[200];
	region_format(&parent, mem, size, 48000, 256, 2, 2, 1, 0, 0);
	CHECK(region_attach(&child, mem, size, err, sizeof err) == 0,
	    "the child attaches: %s", err);
	float x[256];
	for (unsigned i = 0; i < 256; i++)
		x[i] = i == 10 ? NAN : i == 11 ? -INFINITY : (float)i / 256;
	CHECK(ring_elem_push(&child.probe_ring, x, 256) == 256, "the child writes");
	float got[1024];
	uint32_t n = ring_elem_pop(&parent.probe_ring, got, 1024);
	CHECK(n == 256 && got[5] == x[5], "the parent reads what was written");
	scope_history_clear(&h);
	scope_history_append(&h, got, n, 1);
	CHECK(h.replaced == 2 && h.buf[10] == 0 && h.buf[11] == 0, "its NaN and "
	    "infinity become 0 in the history");
	/* a lying child: head far past anything the ring can hold */
	struct ring_hdr *hdr = child.probe_ring.hdr;
	atomic_store(&hdr->head, 0x7fffffffu);
	n = ring_elem_pop(&parent.probe_ring, got, 1024);
	CHECK(n == 0 && ring_elem_avail(&parent.probe_ring) == 0,
	    "an impossible head reads as nothing (%u)", n);
	/* and the region says so to a new child: reset lays it out afresh */
	region_reset(&parent);
	CHECK(ring_elem_avail(&parent.probe_ring) == 0 &&
	    atomic_load(&parent.probe->id.v) == 0, "reset: an empty ring, no request");
	free(mem);
}

int
main(void)
{
	test_tap();
	test_history();
	test_trigger();
	test_mapping();
	test_spectrum();
	test_probe_ring();
	return check_verdict();
}
