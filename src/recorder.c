/*
 * src/recorder.c — the recorder: a frame ring filled by the JACK thread, a
 * ring of gaps (spans the frame ring had no room for, by stream position),
 * and a disk thread that writes both, in order, through audiofile.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "audiofile.h"
#include "futex.h"
#include "log.h"
#include "recorder.h"
#include "ring.h"

#define MAX_CHANNELS 32
#define GAP_RING 1024              /* gaps queued, at most */
#define DISK_TICK_NS 20000000ull   /* the disk thread looks every 20 ms */
#define HEADER_EVERY_NS 1000000000ull

/* A span of the stream that was lost: `len` frames at position `pos`. */
struct gap {
	uint64_t pos;
	uint64_t len;
};

struct recorder {
	unsigned rate, channels;
	void *frames_mem, *gaps_mem;
	size_t frames_bytes;
	struct ring frames_tx, frames_rx;    /* elements: one frame of channels */
	struct ring gaps_tx, gaps_rx;
	/* real-time side */
	_Atomic int active;                  /* push only while set */
	_Atomic int pushing;                 /* a push is under way */
	_Atomic uint64_t pushed;             /* stream position, lost frames too */
	_Atomic uint64_t dropped;
	struct gap rt_gap;                   /* a gap the gap ring had no room for */
	/* disk side */
	pthread_mutex_t lock;                /* start, stop, status: control plane */
	pthread_t thread;
	int thread_running;
	_Atomic int stop;
	_Atomic uint32_t stop_word;          /* futex: wakes the disk thread */
	struct audiofile *file;
	uint64_t written;                    /* frames in the file */
	char path[512];
	_Atomic int failed;
	char error[512];
};

struct recorder *
recorder_create(unsigned rate, unsigned channels, double seconds)
{
	struct recorder *r = xcalloc(1, sizeof *r);
	uint32_t cap = 1024;
	r->rate = rate;
	r->channels = channels < 1 ? 1 : channels > MAX_CHANNELS ? MAX_CHANNELS : channels;
	while (cap < seconds * rate)
		cap *= 2;
	r->frames_bytes = ring_elem_bytes(r->channels * sizeof(float), cap);
	r->frames_mem = xaligned(r->frames_bytes);
	/* the JACK thread writes here: keep it in RAM */
	if (mlock(r->frames_mem, r->frames_bytes) != 0)
		warn("could not lock the recording buffer in memory (%zu KiB): %s",
		    r->frames_bytes >> 10, strerror(errno));
	ring_elem_init(&r->frames_tx, r->frames_mem, r->channels * sizeof(float), cap);
	ring_attach(&r->frames_rx, r->frames_mem, r->frames_bytes, RING_MAGIC_ELEM);
	size_t gb = ring_elem_bytes(sizeof(struct gap), GAP_RING);
	r->gaps_mem = xaligned(gb);
	ring_elem_init(&r->gaps_tx, r->gaps_mem, sizeof(struct gap), GAP_RING);
	ring_attach(&r->gaps_rx, r->gaps_mem, gb, RING_MAGIC_ELEM);
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void
recorder_free(struct recorder *r)
{
	char err[512];
	if (r == NULL)
		return;
	recorder_stop(r, err, sizeof err);
	munlock(r->frames_mem, r->frames_bytes);
	free(r->frames_mem);
	free(r->gaps_mem);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Real-time: note a lost span; merged into the pending one when the gap
 * ring is full, so the timeline stays whole. */
static void
lose(struct recorder *r, uint64_t pos, uint64_t len)
{
	if (r->rt_gap.len > 0 && r->rt_gap.pos + r->rt_gap.len == pos) {
		r->rt_gap.len += len;
	} else {
		if (r->rt_gap.len > 0 && ring_elem_push(&r->gaps_tx, &r->rt_gap, 1) != 1)
			return;   /* impossible: pending gaps are contiguous */
		r->rt_gap = (struct gap){ pos, len };
	}
	if (ring_elem_push(&r->gaps_tx, &r->rt_gap, 1) == 1)
		r->rt_gap.len = 0;
	atomic_fetch_add_explicit(&r->dropped, len, memory_order_relaxed);
}

void
recorder_push(struct recorder *r, const float *const *channels, unsigned frames)
{
	atomic_store(&r->pushing, 1);
	if (!atomic_load(&r->active)) {
		atomic_store_explicit(&r->pushing, 0, memory_order_release);
		return;
	}
	uint64_t pos = atomic_load_explicit(&r->pushed, memory_order_relaxed);
	/* a gap still waiting for room must go first, or order is lost */
	if (r->rt_gap.len > 0 && ring_elem_push(&r->gaps_tx, &r->rt_gap, 1) == 1)
		r->rt_gap.len = 0;
	if (r->rt_gap.len > 0 || ring_elem_space(&r->frames_tx) < frames) {
		lose(r, pos, frames);
	} else {
		unsigned done = 0;
		while (done < frames) {
			uint32_t n;
			float *dst = ring_elem_reserve(&r->frames_tx, &n);
			if (n > frames - done)
				n = frames - done;
			for (unsigned i = 0; i < n; i++)
				for (unsigned c = 0; c < r->channels; c++)
					dst[i * r->channels + c] = channels[c] != NULL ?
					    channels[c][done + i] : 0.0f;
			ring_elem_commit(&r->frames_tx, n);
			done += n;
		}
	}
	atomic_store_explicit(&r->pushed, pos + frames, memory_order_release);
	atomic_store_explicit(&r->pushing, 0, memory_order_release);
}

/* Disk thread: stop recording after a failure, keeping what was written. */
static void
disk_fail(struct recorder *r, const char *msg)
{
	snprintf(r->error, sizeof r->error, "%s", msg);
	atomic_store(&r->active, 0);
	atomic_store(&r->failed, 1);
}

/* Disk thread: write everything queued, in stream order; 0 or -1. */
static int
disk_drain(struct recorder *r)
{
	static const float zeros[4096 * MAX_CHANNELS / 8];
	char err[512];
	for (;;) {
		uint32_t n;
		const struct gap *g = ring_elem_peek(&r->gaps_rx, &n);
		uint64_t limit = UINT64_MAX;
		if (g != NULL && n > 0) {
			if (g->pos <= r->written) {
				/* the lost span: silence of the same length */
				uint64_t left = g->len;
				size_t chunk = sizeof zeros / sizeof zeros[0] / r->channels;
				while (left > 0) {
					size_t k = left < chunk ? (size_t)left : chunk;
					if (audiofile_write(r->file, zeros, k, err, sizeof err) != 0) {
						disk_fail(r, err);
						return -1;
					}
					r->written += k;
					left -= k;
				}
				ring_elem_release(&r->gaps_rx, 1);
				continue;
			}
			limit = g->pos - r->written;
		}
		const float *src = ring_elem_peek(&r->frames_rx, &n);
		if (src == NULL || n == 0)
			return 0;
		if (n > limit)
			n = (uint32_t)limit;
		if (audiofile_write(r->file, src, n, err, sizeof err) != 0) {
			disk_fail(r, err);
			ring_elem_release(&r->frames_rx, n);
			return -1;
		}
		ring_elem_release(&r->frames_rx, n);
		r->written += n;
	}
}

/* The disk thread: drain every tick, bring the header up to date every
 * second, finish when asked. */
static void *
disk_main(void *arg)
{
	struct recorder *r = arg;
	uint64_t last_header = futex_now_ns();
	char err[512];

	pthread_setname_np(pthread_self(), "fs-recorder");

	for (;;) {
		int stopping = atomic_load(&r->stop);
		if (!atomic_load(&r->failed) && disk_drain(r) == 0 &&
		    futex_now_ns() - last_header >= HEADER_EVERY_NS) {
			if (audiofile_sync(r->file, err, sizeof err) != 0)
				disk_fail(r, err);
			last_header = futex_now_ns();
		}
		if (stopping) {
			/* the JACK thread has stopped pushing (recorder_stop
			 * waited for it): a gap it had no ring room for is ours
			 * now, and ends the file as silence */
			if (r->rt_gap.len > 0 && !atomic_load(&r->failed) &&
			    ring_elem_push(&r->gaps_tx, &r->rt_gap, 1) == 1) {
				r->rt_gap.len = 0;
				disk_drain(r);
			}
			break;
		}
		struct timespec ts;
		futex_deadline_after(&ts, DISK_TICK_NS);
		futex_wait(&r->stop_word, 0, &ts);
	}
	return NULL;
}

int
recorder_start(struct recorder *r, const char *path, const char *format,
    int overwrite, char *err, size_t err_size)
{
	pthread_mutex_lock(&r->lock);
	if (r->file != NULL) {
		snprintf(err, err_size, "already recording to %s (record stop first)",
		    r->path);
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	if (strcmp(path, "-") == 0) {
		snprintf(err, err_size, "-: a recording cannot go to standard "
		    "output (the answers to commands do); give a file name");
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	r->file = audiofile_create(path, format, r->rate, r->channels, 0,
	    overwrite, err, err_size);
	/* a recording replacing a file takes its name at once, so that a
	 * killed process leaves it where the user looks */
	if (r->file != NULL && audiofile_commit(r->file, err, err_size) != 0) {
		audiofile_abandon(r->file);
		r->file = NULL;
	}
	if (r->file == NULL) {
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	snprintf(r->path, sizeof r->path, "%s", path);
	r->written = 0;
	r->error[0] = '\0';
	r->rt_gap.len = 0;
	atomic_store(&r->failed, 0);
	atomic_store(&r->dropped, 0);
	atomic_store(&r->pushed, 0);
	atomic_store(&r->stop, 0);
	atomic_store(&r->stop_word, 0);
	ring_reset(&r->frames_tx);
	ring_attach(&r->frames_rx, r->frames_mem, r->frames_bytes, RING_MAGIC_ELEM);
	ring_reset(&r->gaps_tx);
	ring_attach(&r->gaps_rx, r->gaps_mem,
	    ring_elem_bytes(sizeof(struct gap), GAP_RING), RING_MAGIC_ELEM);
	if (pthread_create(&r->thread, NULL, disk_main, r) != 0) {
		snprintf(err, err_size, "%s: cannot start the disk thread", path);
		audiofile_close(r->file, err, err_size);
		r->file = NULL;
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	r->thread_running = 1;
	atomic_store_explicit(&r->active, 1, memory_order_release);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

int
recorder_stop(struct recorder *r, char *err, size_t err_size)
{
	int rc = 0;
	pthread_mutex_lock(&r->lock);
	if (r->file == NULL) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	atomic_store(&r->active, 0);
	/* a push that saw `active` set finishes before the last drain (the
	 * seq_cst store above and the load in recorder_push order the two) */
	while (atomic_load(&r->pushing))
		usleep(100);
	atomic_store(&r->stop, 1);
	atomic_store(&r->stop_word, 1);
	futex_wake(&r->stop_word, 1);
	if (r->thread_running)
		pthread_join(r->thread, NULL);
	r->thread_running = 0;
	if (atomic_load(&r->failed)) {
		snprintf(err, err_size, "%s", r->error);
		rc = -1;
	}
	char cerr[512];
	if (audiofile_close(r->file, cerr, sizeof cerr) != 0 && rc == 0) {
		snprintf(err, err_size, "%s", cerr);
		rc = -1;
	}
	r->file = NULL;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
recorder_status(struct recorder *r, struct recorder_status *s)
{
	pthread_mutex_lock(&r->lock);
	memset(s, 0, sizeof *s);
	s->recording = r->file != NULL && !atomic_load(&r->failed);
	snprintf(s->path, sizeof s->path, "%s", r->path);
	s->frames = atomic_load(&r->pushed);
	s->dropped = atomic_load(&r->dropped);
	s->failed = atomic_load(&r->failed);
	snprintf(s->error, sizeof s->error, "%s", s->failed ? r->error : "");
	pthread_mutex_unlock(&r->lock);
}
