/*
 * src/audiofile.h — writing audio files through libsndfile, the format chosen
 * from the file name (.wav, .flac, .ogg, .aiff, .au, .caf, .w64, .rf64).
 */
#ifndef FORKSYNTH_AUDIOFILE_H
#define FORKSYNTH_AUDIOFILE_H

#include <stddef.h>

struct audiofile;

/*
 * Create `path` for `channels` channels at `rate` frames per second.  The
 * format follows the extension; WAV is 32-bit float.  An existing file is
 * replaced only when `overwrite` is set.  On failure returns NULL and writes
 * a message naming the file and the reason into err.
 */
struct audiofile *audiofile_create(const char *path, unsigned rate,
    unsigned channels, int overwrite, char *err, size_t err_size);

/* Append `frames` interleaved frames.  Returns 0, or -1 with a message. */
int audiofile_write(struct audiofile *f, const float *interleaved,
    size_t frames, char *err, size_t err_size);

/* Frames written so far. */
size_t audiofile_frames(const struct audiofile *f);

/* Finish the header and close.  Returns 0, or -1 with a message. */
int audiofile_close(struct audiofile *f, char *err, size_t err_size);

/* The libsndfile major format for a file name, or 0 when not known. */
int audiofile_format_for(const char *path);

#endif
