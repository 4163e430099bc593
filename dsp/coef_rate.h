/*
 * dsp/coef_rate.h — test hooks of the filters' control-rate coefficients:
 * the ladder and the svf interpolate their cutoff coefficients where the
 * modulation is smooth (ladder_coeffs in dsp/ladder.c, svf_coeffs in
 * dsp/svf.c); these make one instance compute them exactly every sample
 * instead, so a test can measure the difference.  Not part of the module
 * interface: nothing but tests calls them, and only between blocks.
 */
#ifndef FORKSYNTH_DSP_COEF_RATE_H
#define FORKSYNTH_DSP_COEF_RATE_H

/* `on`: the ladder whose state is `self` never interpolates. */
void ladder_coef_per_sample(void *self, int on);

/* `on`: the svf whose state is `self` never interpolates. */
void svf_coef_per_sample(void *self, int on);

#endif
