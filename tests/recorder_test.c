/*
 * tests/recorder_test.c — the recorder on its own, with a thread in the
 * JACK callback's place: every frame pushed reaches the file, in order and
 * exact; frames the ring has no room for are counted and written as
 * silence of the same length, so the timeline stays whole; stopping leaves
 * a file libsndfile reads.  Also built with ThreadSanitizer by `make tsan`.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sndfile.h>

#include "check.h"
#include "recorder.h"

#define RATE 48000
#define PERIOD 256
#define CHANNELS 2

/* The sample pushed at stream frame `i` on channel `c`: never zero, so a
 * zero in the file is a lost frame. */
static float
expected(unsigned long i, unsigned c)
{
	float v = (float)(i % 40000 + 1) / 40000.0f;
	return c == 0 ? v : -v;
}

struct producer {
	struct recorder *r;
	unsigned long periods;
	unsigned pause_every;      /* periods between pauses; 0: none */
	unsigned pause_us;
};

/* The JACK thread's part: push periods of the ramp, pausing as told. */
static void *
produce(void *arg)
{
	struct producer *p = arg;
	float left[PERIOD], right[PERIOD];
	const float *chans[CHANNELS] = { left, right };
	for (unsigned long k = 0; k < p->periods; k++) {
		for (unsigned i = 0; i < PERIOD; i++) {
			left[i] = expected(k * PERIOD + i, 0);
			right[i] = expected(k * PERIOD + i, 1);
		}
		recorder_push(p->r, chans, PERIOD);
		if (p->pause_every && (k + 1) % p->pause_every == 0)
			usleep(p->pause_us);
	}
	return NULL;
}

/* Read a whole file: its frames into *data (free it); frame count, or -1. */
static long
read_file(const char *path, float **data)
{
	SF_INFO info = { 0 };
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (f == NULL) {
		printf("cannot open %s: %s\n", path, sf_strerror(NULL));
		return -1;
	}
	CHECK(info.channels == CHANNELS && info.samplerate == RATE,
	    "%s: %d channels at %d Hz", path, info.channels, info.samplerate);
	*data = malloc((size_t)info.frames * CHANNELS * sizeof(float) + 1);
	long n = (long)sf_readf_float(f, *data, info.frames);
	sf_close(f);
	return n;
}

/* Record `periods` periods through a ring of `ring_seconds`, pausing the
 * producer as given; check the file against what was pushed.  Returns the
 * frames the recorder reported lost. */
static unsigned long long
record(const char *dir, const char *name, double ring_seconds,
    unsigned long periods, unsigned pause_every, unsigned pause_us)
{
	char path[512], err[512];
	struct recorder_status st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	struct recorder *r = recorder_create(RATE, CHANNELS, ring_seconds);
	CHECK(recorder_start(r, path, NULL, 0, err, sizeof err) == 0, "start: %s", err);
	struct producer p = { r, periods, pause_every, pause_us };
	pthread_t t;
	pthread_create(&t, NULL, produce, &p);
	pthread_join(t, NULL);
	recorder_status(r, &st);
	unsigned long long lost = st.dropped;
	CHECK(recorder_stop(r, err, sizeof err) == 0, "stop: %s", err);
	recorder_free(r);

	float *data = NULL;
	long n = read_file(path, &data);
	unsigned long total = periods * PERIOD;
	CHECK(n == (long)total, "%s: %ld frames in the file, %lu pushed", name, n, total);
	unsigned long zeros = 0, wrong = 0;
	for (long i = 0; i < n; i++) {
		int silent = data[i * CHANNELS] == 0.0f && data[i * CHANNELS + 1] == 0.0f;
		if (silent)
			zeros++;
		else if (data[i * CHANNELS] != expected((unsigned long)i, 0) ||
		    data[i * CHANNELS + 1] != expected((unsigned long)i, 1))
			wrong++;
	}
	CHECK(wrong == 0, "%s: %lu frames neither exact nor silent", name, wrong);
	CHECK(zeros == lost, "%s: %lu silent frames, %llu reported lost", name, zeros, lost);
	printf("%s: %ld frames, every one exact or silent; %llu lost and written as "
	    "silence in place\n", name, n, lost);
	free(data);
	return lost;
}

int
main(void)
{
	char dir[] = "/tmp/forksynth-rectest.XXXXXX";
	char path[600], err[512];
	if (mkdtemp(dir) == NULL)
		return 1;

	/* paced like a fast JACK callback: nothing may be lost */
	unsigned long long lost = record(dir, "paced.wav", 1.0, 2000, 8, 2000);
	CHECK(lost == 0, "paced pushes lost %llu frames", lost);

	/* bursts far faster than the disk thread's tick into a small ring:
	 * frames are lost, counted, and the timeline stays whole */
	lost = record(dir, "burst.wav", 0.05, 4000, 1000, 30000);
	CHECK(lost > 0, "bursts into a 50 ms ring lost nothing");

	/* an existing file is refused and left alone */
	struct recorder *r = recorder_create(RATE, CHANNELS, 1.0);
	snprintf(path, sizeof path, "%s/paced.wav", dir);
	CHECK(recorder_start(r, path, NULL, 0, err, sizeof err) != 0 &&
	    strstr(err, "paced.wav") != NULL, "overwrite refused with the name: %s", err);
	recorder_free(r);

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("could not remove %s\n", dir);
	return check_verdict();
}
