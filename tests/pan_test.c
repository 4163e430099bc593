/*
 * tests/pan_test.c — pan keeps its equal-power law, measured on the module:
 * for positions from -1 to 1 (parameter and cv, which add), left and right
 * are cos and sin of (pan + 1) pi/4 times the input to within 3e-7, their
 * power sums to 1 within 1e-6 (no level bump anywhere across the field),
 * the centre is -3.0103 dB each side, and positions past the ends (and a
 * NaN cv) clamp to an end.  A cv that holds one value through a block
 * (its gains computed once) gives what the same cv gives frame by frame.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define RATE 48000.0f
#define FRAMES 64

/* Left and right of a unit input at `pos` (parameter) + `cv` (NAN: no cv
 * connected), after the smoother settles. */
static void
pan_at(float pos, float cv, double *l, double *r)
{
	struct inst *p = inst_new("pan", RATE, 1);
	float x[FRAMES], c[FRAMES], yl[FRAMES], yr[FRAMES];
	float *in[2] = { x, isnan(cv) ? NULL : c }, *out[2] = { yl, yr };

	for (unsigned i = 0; i < FRAMES; i++) {
		x[i] = 1.0f;
		c[i] = cv;
	}
	inst_set(p, "pan", pos);
	inst_run(p, in, out, FRAMES, FRAMES);
	*l = yl[FRAMES - 1];
	*r = yr[FRAMES - 1];
	inst_free(p);
}

int
main(void)
{
	double worst_gain = 0, worst_power = 0;

	for (int k = -100; k <= 100; k++) {
		float pos = (float)k / 100.0f;
		double want_l = cos((pos + 1.0) * M_PI / 4);
		double want_r = sin((pos + 1.0) * M_PI / 4);
		double l, r;
		/* the parameter alone, then half parameter and half cv */
		for (int way = 0; way < 2; way++) {
			if (way == 0)
				pan_at(pos, NAN, &l, &r);
			else
				pan_at(pos / 2, pos - pos / 2, &l, &r);
			double e = fmax(fabs(l - want_l), fabs(r - want_r));
			worst_gain = fmax(worst_gain, e);
			worst_power = fmax(worst_power, fabs(l * l + r * r - 1.0));
		}
	}
	report("pan: worst gain error against cos/sin over -1..1", worst_gain,
	    "", "<=", 3e-7, worst_gain <= 3e-7);
	report("pan: worst |left^2 + right^2 - 1| over -1..1", worst_power, "",
	    "<=", 1e-6, worst_power <= 1e-6);

	double l, r;
	pan_at(0.0f, NAN, &l, &r);
	report("pan: centre, left", db_amp(l), "dB", "~", -3.0103,
	    fabs(db_amp(l) + 3.0103) < 1e-5);
	report("pan: centre, right", db_amp(r), "dB", "~", -3.0103,
	    fabs(db_amp(r) + 3.0103) < 1e-5);

	/* past the ends: clamped to hard left or right */
	pan_at(-1.0f, -0.7f, &l, &r);
	report("pan: -1 with cv -0.7, left", l, "", "~", 1, fabs(l - 1) < 1e-6);
	report("pan: -1 with cv -0.7, right", fabs(r), "", "<=", 1e-7,
	    fabs(r) <= 1e-7);
	pan_at(1.0f, 3.0f, &l, &r);
	report("pan: 1 with cv 3, right", r, "", "~", 1, fabs(r - 1) < 1e-6);
	report("pan: 1 with cv 3, left", fabs(l), "", "<=", 1e-7,
	    fabs(l) <= 1e-7);
	/* a NaN cv reads as the left end (clampf), never NaN out */
	{
		struct inst *p = inst_new("pan", RATE, 1);
		float x[FRAMES], c[FRAMES], yl[FRAMES], yr[FRAMES];
		float *in[2] = { x, c }, *out[2] = { yl, yr };
		for (unsigned i = 0; i < FRAMES; i++) {
			x[i] = 1.0f;
			c[i] = NAN;
		}
		inst_run(p, in, out, FRAMES, FRAMES);
		report("pan: NaN cv, left (clamped to the left end)", yl[0], "",
		    "~", 1, fabs(yl[0] - 1.0f) < 1e-6);
		report("pan: NaN cv, right", fabs(yr[0]), "", "<=", 1e-7,
		    isfinite(yr[0]) && fabs(yr[0]) <= 1e-7);
		inst_free(p);
	}
	/* a held cv takes its gains once per block; a cv that moves only
	 * in its last frame goes frame by frame: the frames before must be
	 * the same bits */
	{
		int same = 1;
		for (int k = -12; k <= 12 && same; k++) {
			float held[FRAMES], moved[FRAMES];
			for (int way = 0; way < 2; way++) {
				struct inst *p = inst_new("pan", RATE, 1);
				float x[FRAMES], c[FRAMES], yl[FRAMES], yr[FRAMES];
				float *in[2] = { x, c }, *out[2] = { yl, yr };
				for (unsigned i = 0; i < FRAMES; i++) {
					x[i] = 0.5f + 0.01f * (float)i;
					c[i] = (float)k * 0.137f;
				}
				if (way == 1)
					c[FRAMES - 1] += 0.25f;
				inst_set(p, "pan", 0.3f);
				inst_run(p, in, out, 2 * FRAMES / 2, FRAMES);
				for (unsigned i = 0; i < FRAMES; i++)
					(way == 0 ? held : moved)[i] = yl[i] + 2 * yr[i];
				inst_free(p);
			}
			same = memcmp(held, moved, (FRAMES - 1) * sizeof(float)) == 0;
		}
		report("pan: a held cv's gains, once per block, equal frame by frame",
		    same, "", "==", 1, same);
	}
	return test_status();
}
