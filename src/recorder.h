/*
 * src/recorder.h — recording what forksynth plays.  The JACK thread copies
 * each period into a lock-free ring (no allocation, lock or syscall); a
 * disk thread drains it into libsndfile, brings the header up to date every
 * second, and turns frames the ring had no room for into silence so the
 * timeline stays whole.
 */
#ifndef FORKSYNTH_RECORDER_H
#define FORKSYNTH_RECORDER_H

#include <stddef.h>

struct recorder;

/* Make a recorder for `channels` channels at `rate` with a ring of at
 * least `seconds` of audio.  Nothing is recorded until recorder_start. */
struct recorder *recorder_create(unsigned rate, unsigned channels,
    double seconds);
void recorder_free(struct recorder *r);

/*
 * Start recording into `path` (format from the name or `format`, see
 * audiofile.h).  Returns 0, or -1 with a message naming the file and the
 * reason (exists without overwrite, unwritable, unknown format).
 */
int recorder_start(struct recorder *r, const char *path, const char *format,
    int overwrite, char *err, size_t err_size);

/* Stop: the disk thread drains what is queued, finishes the file and
 * closes it.  Returns 0, or -1 with the first error met. */
int recorder_stop(struct recorder *r, char *err, size_t err_size);

/* Real-time: append `frames` frames of the channels (NULL = silence).
 * Never blocks; frames that do not fit are counted and become silence. */
void recorder_push(struct recorder *r, const float *const *channels,
    unsigned frames);

/* What the recorder is doing, for the status line and `record` answers. */
struct recorder_status {
	int recording;              /* a file is open */
	char path[512];
	unsigned long long frames;  /* frames in the file (written + queued) */
	unsigned long long dropped; /* frames the ring had no room for */
	int failed;                 /* stopped by an error (disk full ...) */
	char error[512];            /* that error, naming the file */
};
void recorder_status(struct recorder *r, struct recorder_status *s);

#endif
