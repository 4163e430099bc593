/*
 * bench/record_bench.c — the recorder's costs: nanoseconds per period that
 * recorder_push adds to the JACK thread (median and max), and the disk
 * writer's throughput in frames per second for each format.  Appends a
 * markdown table to the file named by --out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audiofile.h"
#include "futex.h"
#include "recorder.h"

#define RATE 48000
#define PERIOD 256

static int
cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *out_path = NULL;
	char dir[] = "/tmp/forksynth-recbench.XXXXXX", path[256], err[512];
	char table[8192];
	size_t used = 0;
#define EMIT(...) used += (size_t)snprintf(table + used, sizeof table - used, __VA_ARGS__)

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out_path = argv[++i];
	if (mkdtemp(dir) == NULL)
		return 1;

	/* a stereo period of a sine, as a JACK callback would hand over */
	static float l[PERIOD], r[PERIOD];
	for (int i = 0; i < PERIOD; i++)
		l[i] = r[i] = 0.5f * (float)(i % 64) / 64.0f;
	const float *ch[2] = { l, r };

	/* 1. the JACK thread's share: one push per period, paced at 20x real
	 * time so that the disk keeps up */
	struct recorder *rec = recorder_create(RATE, 2, 12.0);
	snprintf(path, sizeof path, "%s/push.wav", dir);
	if (recorder_start(rec, path, NULL, 1, err, sizeof err) != 0) {
		fprintf(stderr, "record_bench: %s\n", err);
		return 1;
	}
	enum { N = 20000 };
	static unsigned long long ns[N];
	for (int i = 0; i < N; i++) {
		uint64_t t0 = futex_now_ns();
		recorder_push(rec, ch, PERIOD);
		ns[i] = futex_now_ns() - t0;
		if (i % 8 == 7)
			usleep(PERIOD * 8 * 1000000 / RATE / 20);
	}
	struct recorder_status st;
	recorder_status(rec, &st);
	recorder_stop(rec, err, sizeof err);
	recorder_free(rec);
	qsort(ns, N, sizeof ns[0], cmp_u64);
	EMIT("\n## Recording\n\n");
	EMIT("On the JACK thread, per period of %d stereo frames (%d periods, pushed at "
	    "20x real time): median %llu ns, p99 %llu ns, max %llu ns; %llu frames "
	    "lost.\n\n", PERIOD, N, ns[N / 2], ns[N * 99 / 100], ns[N - 1], st.dropped);

	/* 2. the disk thread's side: 60 s of stereo through each format */
	const char *formats[] = { "wav", "wav24", "wav16", "flac", "ogg" };
	static float buf[4096 * 2];
	for (int i = 0; i < 4096; i++)
		buf[2 * i] = buf[2 * i + 1] = 0.4f * (float)((i * 37) % 101 - 50) / 50.0f;
	EMIT("| format | disk throughput, frames/s | x real time |\n|---|---:|---:|\n");
	for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
		snprintf(path, sizeof path, "%s/t.%s", dir,
		    strncmp(formats[k], "wav", 3) == 0 ? "wav" : formats[k]);
		struct audiofile *f = audiofile_create(path, formats[k], RATE, 2, 0, 1,
		    err, sizeof err);
		if (f == NULL) {
			fprintf(stderr, "record_bench: %s\n", err);
			continue;
		}
		uint64_t t0 = futex_now_ns();
		long frames = 0;
		while (frames < 60L * RATE) {
			audiofile_write(f, buf, 4096, err, sizeof err);
			frames += 4096;
		}
		audiofile_close(f, err, sizeof err);
		double secs = (futex_now_ns() - t0) / 1e9;
		EMIT("| %s | %.0f | %.0fx |\n", formats[k], frames / secs, frames / secs / RATE);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/push.wav", dir);
	unlink(path);
	rmdir(dir);
	fputs(table, stdout);
	if (out_path != NULL) {
		FILE *o = fopen(out_path, "a");
		if (o != NULL) {
			fputs(table, o);
			fclose(o);
		}
	}
	return 0;
}
