/*
 * src/audiofile.h — writing audio files through libsndfile, shared by
 * offline render and the recorder.  The format comes from --format or the
 * file name: WAV float32 (default), 24- and 16-bit (dithered) WAV, FLAC, Ogg
 * Vorbis, AIFF, AU, CAF, W64.  WAV files that would pass 4 GiB become RF64
 * instead of breaking.
 */
#ifndef FORKSYNTH_AUDIOFILE_H
#define FORKSYNTH_AUDIOFILE_H

#include <stdio.h>
#include <stddef.h>

struct audiofile;

/*
 * Create `path` for `channels` channels at `rate` frames per second, in
 * `format` (a name from audiofile_formats, or NULL: from the extension).
 * `frames` is the length when known in advance (offline render), else 0: a
 * WAV known to stay under 4 GiB is written as plain WAV (byte-identical
 * every time), otherwise as RF64 that falls back to WAV at the end if it
 * stayed small.  A new file is created exclusively, mode 0600.  An
 * existing regular file is replaced only with `overwrite`, and then through
 * a temporary file in its directory that takes its place at
 * audiofile_commit or audiofile_close: a failed write leaves it as it was.
 * Devices, FIFOs, sockets, directories and symbolic links are refused
 * whatever `overwrite` says.  `-` writes to standard output when closed
 * (not a terminal; spooled in $TMPDIR meanwhile, so every format works).
 * On failure returns NULL and writes a message naming the file and the
 * reason into err; nothing on disk changed.
 */
struct audiofile *audiofile_create(const char *path, const char *format,
    unsigned rate, unsigned channels, unsigned long long frames,
    int overwrite, char *err, size_t err_size);

/* Append `frames` interleaved frames (16-bit formats get TPDF dither).
 * Returns 0, or -1 with a message naming the file and the reason. */
int audiofile_write(struct audiofile *f, const float *interleaved,
    size_t frames, char *err, size_t err_size);

/* Bring the header up to date so the file is whole as it stands. */
int audiofile_sync(struct audiofile *f, char *err, size_t err_size);

/* Put a replacing file in place of the old one now (a recording does, so
 * that what it holds is found under its name even if the process is
 * killed); a no-op otherwise.  Returns 0, or -1 with a message. */
int audiofile_commit(struct audiofile *f, char *err, size_t err_size);

/* Finish the header, close, and put the file in place (a replacing one
 * over the old file; `-` copied to stdout).  Returns 0, or -1 with a
 * message; a replacing file that failed is removed, the old one kept. */
int audiofile_close(struct audiofile *f, char *err, size_t err_size);

/* Give up: close and remove what this writer created (the new file or
 * the replacing one); an old file is left as it was. */
void audiofile_abandon(struct audiofile *f);

/* Whether `format` (or the extension of `path` when format is NULL) names a
 * format we write. */
int audiofile_known(const char *path, const char *format);

/* List the format names with one line of help each. */
void audiofile_formats(FILE *out);

#endif
