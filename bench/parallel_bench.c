/*
 * bench/parallel_bench.c — the parallel profile of a block: how N bench
 * voices (bench/voice_patch.h), optionally into a global reverb, spread
 * over the thread pool, and what limits them.
 *
 * Per block it records, through the pool's trace (pool_set_trace):
 *   work    the sum of every task's time;
 *   span    the critical path through the task graph with those times
 *           (pool_plan_span): no thread count finishes a block sooner;
 *   serial  graph_process's time outside the pool's parallel phase (event
 *           routing, setting the block up, summing the outputs);
 *   wake    per worker, from the block's publication to its first task;
 * and from the threads' stats: time spinning idle, sleeps, steals and lost
 * compare-and-swaps.  From work, span and serial it prints the speedup the
 * graph allows at 2, 4, 8 and 16 threads, max(work / P, span) + serial
 * against work + serial, so a 2-core machine shows what will limit 16.
 *
 * With --paced, blocks come at real-time pace (one per period, as JACK
 * would call), so idle workers go to sleep between blocks unless
 * --spin-us keeps them spinning, or --lead-us wakes them that long before
 * each block and lets them spin three times that (as the DSP child does
 * when hot); without --paced blocks run back to back.
 * Prints a markdown table (appended to --out FILE).  Nothing is asserted.
 *
 * Usage: parallel_bench [--voices N] [--frames F] [--threads "1 2 4"]
 *        [--blocks B] [--reverb] [--paced] [--spin-us S] [--lead-us L]
 *        [--rt PRIO]
 *        [--out FILE]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsp_util.h"
#include "graph.h"
#include "log.h"
#include "patch.h"
#include "pool.h"
#include "voice_patch.h"

#define RATE 48000.0f
#define MAX_BLOCKS 20000

/* What one run measures, per block. */
struct profile {
	unsigned n;
	double *wall, *work, *span, *serial;    /* µs */
	double *wake;                           /* µs, workers' first starts */
	unsigned n_wake;
};

/* How to run. */
struct options {
	unsigned voices, frames, blocks;
	int reverb, paced, rt;
	double spin_us;
	double lead_us;             /* paced: workers wake this long ahead */
	char threads[128];
	const char *out;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[0..n) (sorts v). */
static double
quantile(double *v, unsigned n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return v[(unsigned)(q * (n - 1) + 0.5)];
}

/* The bench voice as patch text, `voices` of them, into out.1/out.2 or
 * through a global reverb. */
static void
patch_text(char *buf, size_t size, unsigned voices, int reverb)
{
	snprintf(buf, size, "poly %u\n" VOICE_PATCH_VOICE "%s", voices, reverb ?
	    "global reverb rev decay=2 mix=0.3\n"
	    "connect amp.out rev.left\n"
	    "connect rev.left out.1\n"
	    "connect rev.right out.2\n" :
	    "connect amp.out out.1\n"
	    "connect amp.out out.2\n");
}

/* Sleep until absolute CLOCK_MONOTONIC time t (ns). */
static void
sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000u),
	    (long)(t % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

/* Run o->blocks blocks of the compiled graph on `threads` threads (0: no
 * pool) and fill `pr`; returns the summed stats of the pool's threads. */
static struct pool_stats
run(const struct options *o, struct graph *g, unsigned threads,
    struct profile *pr)
{
	static float l[4096], r[4096];
	float *out[2] = { l, r };
	struct pool_stats sum = { 0 };
	struct pool *pool = NULL;
	struct pool_trace tr = { 0 };
	uint64_t period = (uint64_t)(o->frames * 1e9 / RATE), next, *dur;
	unsigned b, k, warm = o->blocks / 10 + 10;

	tr.capacity = POOL_MAX_TASKS < 65536 ? POOL_MAX_TASKS : 65536;
	tr.start_ns = xcalloc(tr.capacity, sizeof *tr.start_ns);
	tr.end_ns = xcalloc(tr.capacity, sizeof *tr.end_ns);
	tr.thread = xcalloc(tr.capacity, sizeof *tr.thread);
	dur = xcalloc(tr.capacity, sizeof *dur);
	if (threads > 0) {
		pool = pool_create(threads, tr.capacity, o->rt, NULL);
		if (o->spin_us > 0)
			pool_set_spin(pool, (uint64_t)(o->spin_us * 1000));
	}
	graph_set_pool(g, pool);
	pr->n = pr->n_wake = 0;
	next = now_ns();
	for (b = 0; b < warm + o->blocks; b++) {
		int measured = b >= warm;
		if (o->paced) {
			next += period;
			if (pool != NULL && o->lead_us > 0) {
				uint64_t lead = (uint64_t)(o->lead_us * 1000);
				pool_set_wake_at(pool, next - lead, 3 * lead);
			}
			sleep_until(next);
		}
		if (measured && pool != NULL && b == warm) {
			pool_set_trace(pool, &tr);
			for (k = 0; k < threads; k++) {
				struct pool_stats s = pool_stats(pool, k);
				sum.busy_ns -= s.busy_ns;
				sum.idle_ns -= s.idle_ns;
				sum.sleeps -= s.sleeps;
				sum.steals -= s.steals;
				sum.contended -= s.contended;
			}
		}
		uint64_t t0 = now_ns();
		graph_process(g, NULL, out, o->frames);
		uint64_t t1 = now_ns();
		if (!measured)
			continue;
		double wall = (double)(t1 - t0) / 1e3, work = 0, span, serial;
		if (pool != NULL && tr.plan != NULL) {
			unsigned n = tr.n_tasks < tr.capacity ? tr.n_tasks :
			    tr.capacity;
			for (k = 0; k < n; k++) {
				dur[k] = tr.end_ns[k] - tr.start_ns[k];
				work += (double)dur[k];
			}
			span = (double)pool_plan_span(tr.plan, dur) / 1e3;
			work /= 1e3;
			serial = wall - (double)(tr.done_ns - tr.publish_ns) / 1e3;
			for (k = 1; k < tr.n_threads; k++)
				if (tr.first_ns[k] != 0)
					pr->wake[pr->n_wake++] = (double)(tr.first_ns[k] -
					    tr.publish_ns) / 1e3;
		} else {
			work = span = wall;
			serial = 0;
		}
		pr->wall[pr->n] = wall;
		pr->work[pr->n] = work;
		pr->span[pr->n] = span;
		pr->serial[pr->n] = serial < 0 ? 0 : serial;
		pr->n++;
	}
	if (pool != NULL) {
		for (k = 0; k < threads; k++) {
			struct pool_stats s = pool_stats(pool, k);
			sum.busy_ns += s.busy_ns;
			sum.idle_ns += s.idle_ns;
			sum.sleeps += s.sleeps;
			sum.steals += s.steals;
			sum.contended += s.contended;
		}
		pool_set_trace(pool, NULL);
	}
	graph_set_pool(g, NULL);
	pool_destroy(pool);
	free(tr.start_ns);
	free(tr.end_ns);
	free(tr.thread);
	free(dur);
	return sum;
}

/* The speedup a graph of this work, span and serial time allows on P
 * threads (greedy lower bound on the block time). */
static double
bound(double work, double span, double serial, unsigned P)
{
	double par = work / P > span ? work / P : span;
	return (work + serial) / (par + serial);
}

static void
usage(void)
{
	fprintf(stderr, "usage: parallel_bench [--voices N] [--frames F] "
	    "[--threads \"1 2 4\"] [--blocks B] [--reverb] [--paced] "
	    "[--spin-us S] [--lead-us L] [--rt PRIO] [--out FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct options o = { .voices = 256, .frames = 128, .blocks = 2000 };
	static char text[4096], table[32768];
	size_t used = 0;
	struct patch_error err;
	static struct patch p;
	struct profile pr;
	double base_wall = 0;

#define EMIT(...) used += (size_t)snprintf(table + used, sizeof table - used, __VA_ARGS__)
	snprintf(o.threads, sizeof o.threads, "1 2 %ld",
	    sysconf(_SC_NPROCESSORS_ONLN));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--reverb") == 0)
			o.reverb = 1;
		else if (strcmp(a, "--paced") == 0)
			o.paced = 1;
		else if (v == NULL)
			usage();
		else if (strcmp(a, "--voices") == 0)
			o.voices = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--frames") == 0)
			o.frames = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--blocks") == 0)
			o.blocks = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--threads") == 0)
			snprintf(o.threads, sizeof o.threads, "%s", v), i++;
		else if (strcmp(a, "--spin-us") == 0)
			o.spin_us = atof(v), i++;
		else if (strcmp(a, "--lead-us") == 0)
			o.lead_us = atof(v), i++;
		else if (strcmp(a, "--rt") == 0)
			o.rt = atoi(v), i++;
		else if (strcmp(a, "--out") == 0)
			o.out = v, i++;
		else
			usage();
	}
	if (o.blocks == 0 || o.blocks > MAX_BLOCKS || o.frames == 0 ||
	    o.frames > 4096)
		usage();

	dsp_flush_denormals();
	if (o.rt > 0) {
		struct sched_param sp = { .sched_priority = o.rt };
		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
			o.rt = 0;
	}
	patch_text(text, sizeof text, o.voices, o.reverb);
	patch_init(&p, 2, 2);
	if (patch_load_text(&p, text, "bench patch", &err) != 0) {
		char msg[512];
		patch_error_format(&err, msg, sizeof msg);
		fatal("parallel_bench: %s", msg);
	}
	struct graph *g = graph_compile(&p, RATE, NULL);
	/* hold every voice: the note queue takes GRAPH_MAX_EVENTS a block */
	static float l[4096], r[4096];
	float *warm_out[2] = { l, r };
	for (unsigned k = 0; k < o.voices; k++) {
		graph_note_on(g, 0, 24 + (k * 7) % 72, 40 + (k * 37) % 88);
		if (k % 256 == 255)
			graph_process(g, NULL, warm_out, o.frames);
	}
	graph_process(g, NULL, warm_out, o.frames);

	pr.wall = xcalloc(MAX_BLOCKS, sizeof(double));
	pr.work = xcalloc(MAX_BLOCKS, sizeof(double));
	pr.span = xcalloc(MAX_BLOCKS, sizeof(double));
	pr.serial = xcalloc(MAX_BLOCKS, sizeof(double));
	pr.wake = xcalloc((size_t)MAX_BLOCKS * POOL_MAX_THREADS, sizeof(double));

	char cpu[200] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof line, f) != NULL)
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				snprintf(cpu, sizeof cpu, "%.190s", c ? c + 2 : line);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		fclose(f);
	}
	EMIT("\n## Parallel profile: %u voices%s, blocks of %u frames, %s\n\n",
	    o.voices, o.reverb ? " into a reverb" : "", o.frames,
	    !o.paced ? "back to back" : o.lead_us > 0 ? "paced at real time, "
	    "workers waking ahead of each block (hot)" : o.spin_us > 0 ?
	    "paced at real time, workers spinning between blocks" :
	    "paced at real time, workers sleeping between blocks");
	EMIT("%s, %ld online CPUs; %u blocks after warm-up, medians per block "
	    "(µs); %s.  Work: the sum of the tasks' times; span: the critical "
	    "path; serial: graph_process outside the parallel phase; bound P: "
	    "the speedup max(work/P, span) + serial allows against work + "
	    "serial.  Wake: a worker's first task after the block was "
	    "published.\n\n", cpu, sysconf(_SC_NPROCESSORS_ONLN), o.blocks,
	    o.rt > 0 ? "SCHED_FIFO" : "normal scheduling");
	EMIT("| threads | block p50 | block p99 | speedup | work | span | serial "
	    "| work / (span + serial) | bound 2 / 4 / 8 / 16 | wake p50 / p99 "
	    "| idle spin / block | sleeps / block | steals / block | lost CAS / "
	    "block | ns per voice-sample (work) |\n");
	EMIT("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|\n");

	char list[128];
	snprintf(list, sizeof list, "%s", o.threads);
	for (char *tok = strtok(list, " ,"); tok != NULL; tok = strtok(NULL, " ,")) {
		unsigned threads = (unsigned)atoi(tok);
		if (threads > POOL_MAX_THREADS)
			continue;
		struct pool_stats st = run(&o, g, threads, &pr);
		double wall = quantile(pr.wall, pr.n, 0.5);
		double wall99 = quantile(pr.wall, pr.n, 0.99);
		double work = quantile(pr.work, pr.n, 0.5);
		double span = quantile(pr.span, pr.n, 0.5);
		double serial = quantile(pr.serial, pr.n, 0.5);
		double wake50 = quantile(pr.wake, pr.n_wake, 0.5);
		double wake99 = quantile(pr.wake, pr.n_wake, 0.99);
		if (base_wall == 0)
			base_wall = wall;
		double nb = pr.n ? pr.n : 1;
		EMIT("| %u%s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.1f | %.1f | "
		    "%.2f / %.2f / %.2f / %.2f | %.1f / %.1f | %.1f | %.2f | %.1f "
		    "| %.1f | %.1f |\n", threads, threads ? "" : " (no pool)",
		    wall, wall99, base_wall / wall, work, span, serial,
		    work / (span + serial), bound(work, span, serial, 2),
		    bound(work, span, serial, 4), bound(work, span, serial, 8),
		    bound(work, span, serial, 16), wake50, wake99,
		    (double)st.idle_ns / 1e3 / nb, st.sleeps / nb,
		    st.steals / nb, st.contended / nb,
		    work * 1e3 / ((double)o.voices * o.frames));
	}
	graph_free(g);
	fputs(table, stdout);
	if (o.out != NULL) {
		FILE *of = fopen(o.out, "a");
		if (of == NULL)
			fatal("parallel_bench: %s: cannot append", o.out);
		fputs(table, of);
		fclose(of);
	}
	return 0;
}
