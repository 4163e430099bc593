/*
 * dsp/irfile.h — reading an impulse response from any file libsndfile
 * reads, resampled to the engine's rate with libsamplerate.  Off the
 * real-time path.
 */
#ifndef FORKSYNTH_DSP_IRFILE_H
#define FORKSYNTH_DSP_IRFILE_H

#include <stddef.h>

/* The longest IR accepted, seconds: $FORKSYNTH_MAX_IR_SECONDS or 30. */
double ir_max_seconds(void);

/* Check that `path` is an IR we can use (readable audio, 1, 2 or 4
 * channels, not empty, not longer than ir_max_seconds).  0, or -1 with a
 * message naming the file and what to do. */
int ir_check(const char *path, char *err, size_t err_size);

/*
 * Read `path` as planar float channels at `rate` (resampled when the file's
 * rate differs).  *channels gets 1, 2 or 4 arrays of *frames frames, which
 * the caller frees with ir_data_free.  0, or -1 with a message.
 */
int ir_read(const char *path, double rate, float ***data, unsigned *channels,
    size_t *frames, char *err, size_t err_size);
void ir_data_free(float **data, unsigned channels);

#endif
