/*
 * tests/engine_cycle_test.c — the cycle handshake through the real forked
 * child: sync mode adds no latency, pipeline mode exactly one block; a late
 * child costs a faded block and a late count, never a wait past the
 * deadline; a dead child is seen at once; commands take effect; the child
 * is replaced after a crash with the patch replayed.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "futex.h"
#include "util.h"

#define BLOCK 64
#define RATE 48000

/* Start an engine on `text`, fail the test when it cannot start. */
static struct engine *
start(const char *text, int pipeline, int no_fork, struct patch *p)
{
	char err[256];
	struct patch_error perr;
	struct engine_options o = {
		.rate = RATE, .max_block = BLOCK, .n_inputs = 2, .n_outputs = 2,
		.threads = 2, .pipeline = pipeline, .no_fork = no_fork, .hang_ms = 500,
	};
	patch_init(p, 2, 2);
	if (patch_load_text(p, text, "test", &perr) != 0) {
		fprintf(stderr, "patch: %s\n", perr.message);
		exit(99);
	}
	struct engine *e = engine_start(&o, err, sizeof err);
	if (e == NULL) {
		fprintf(stderr, "engine: %s\n", err);
		exit(99);
	}
	engine_load(e, p);
	if (engine_sync(e, 5000) != 0)
		fail("the child did not take the patch");
	return e;
}

/* Fill a block with a ramp that names the cycle: value = cycle + i/1000. */
static void
ramp(float *x, unsigned cycle)
{
	for (unsigned i = 0; i < BLOCK; i++)
		x[i] = (float)cycle + (float)i / 1000.0f;
}

/* Latency of a pass-through patch: 0 cycles in sync mode, 1 in pipeline. */
static void
test_latency(int pipeline, int no_fork)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=1\nconnect in.1 thru.in\n"
	    "connect thru.out out.1\n", pipeline, no_fork, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	int bad = 0;
	for (unsigned k = 1; k <= 200; k++) {
		ramp(in1, k);
		enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
		unsigned want = pipeline ? k - 1 : k;
		if (st != ENGINE_OK) {
			bad++;
			continue;
		}
		if (want == 0)
			continue;
		float expect[BLOCK];
		ramp(expect, want);
		if (memcmp(l, expect, sizeof l) != 0)
			bad++;
	}
	if (bad)
		fail("%s%s: %d of 200 cycles wrong", pipeline ? "pipeline" : "sync",
		    no_fork ? " (no-fork)" : "", bad);
	else
		printf("ok: %s%s mode adds exactly %d block(s) of latency\n",
		    pipeline ? "pipeline" : "sync", no_fork ? " (no-fork)" : "",
		    pipeline);
	engine_stop(e);
}

/* A child that hangs: engine_cycle returns at its deadline with the last
 * good block faded, counts it late; supervision replaces the child. */
static void
test_deadline(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=1\nglobal fault stuck\n"
	    "connect in.1 thru.in\nconnect thru.out stuck.in\nconnect stuck.out out.1\n",
	    0, 0, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.5f;
	engine_cycle(e, in, out, BLOCK, NULL, 0, 0);     /* a good block */
	engine_command(e, "set stuck.mode hang");
	engine_sync(e, 5000);
	/* 10 cycles: the first hangs the child; each must end by its deadline */
	unsigned late = 0;
	uint64_t worst = 0;
	for (unsigned k = 0; k < 10; k++) {
		uint64_t t0 = futex_now_ns();
		enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0,
		    t0 + 2000000);
		uint64_t took = futex_now_ns() - t0;
		if (took > worst)
			worst = took;
		if (st == ENGINE_LATE)
			late++;
		if (k == 0 && !(st == ENGINE_LATE && l[0] > 0.49f && l[BLOCK - 1] == 0.0f))
			fail("the first late block is not the last good one faded out "
			    "(%g .. %g)", l[0], l[BLOCK - 1]);
		if (k > 0 && peak(l, BLOCK) != 0)
			fail("a late block after the fade is not silent");
	}
	/* correctness, not speed: the wait ends near the deadline (2 ms), not
	 * when the hung child would answer (never) */
	if (late != 10 || worst > 500000000ull)
		fail("deadline: %u of 10 late, longest wait %.1f ms", late, worst / 1e6);
	else
		printf("ok: a hung child costs late cycles bounded by the deadline "
		    "(10 of 10 late, longest wait %.2f ms for a 2 ms deadline)\n",
		    worst / 1e6);
	char msg[512];
	int rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 0)
		fail("a hang within hang_ms was acted on too early: %s", msg);
	usleep(600000);
	rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 1 || strstr(msg, "stopped answering") == NULL ||
	    strstr(msg, "'stuck'") == NULL)
		fail("hang supervision: rc %d, '%s'", rc, msg);
	else
		printf("ok: %s\n", msg);
	struct engine_info info;
	engine_info(e, &info);
	if (info.late < 10 || info.restarts != 1)
		fail("counters: late %lu, restarts %lu", info.late, info.restarts);
	engine_stop(e);
}

/* A dead child is seen at once (its handler sets the flag), and after the
 * restart the replayed patch plays again. */
static void
test_crash_and_replay(void)
{
	static struct patch p;
	struct engine *e = start("global vca thru gain=2\nglobal fault boom\n"
	    "connect in.1 thru.in\nconnect thru.out boom.in\nconnect boom.out out.1\n",
	    0, 0, &p);
	float in1[BLOCK], l[BLOCK], r[BLOCK];
	const float *in[2] = { in1, NULL };
	float *out[2] = { l, r };
	for (unsigned i = 0; i < BLOCK; i++)
		in1[i] = 0.25f;
	engine_command(e, "set boom.mode crash");
	engine_sync(e, 5000);
	uint64_t t0 = futex_now_ns();
	enum engine_status st = engine_cycle(e, in, out, BLOCK, NULL, 0, t0 + 2000000000ull);
	if (st != ENGINE_DOWN)
		fail("a crashing child: status %d, want ENGINE_DOWN", st);
	else
		printf("ok: a crash is seen in %.2f ms, not at the 2 s deadline\n",
		    (futex_now_ns() - t0) / 1e6);
	char msg[512];
	/* the parent's patch says mode=none: the replay brings a sane child */
	int rc = engine_supervise(e, &p, 0, msg, sizeof msg);
	if (rc != 1 || strstr(msg, "signal 11") == NULL || strstr(msg, "'boom'") == NULL)
		fail("crash supervision: rc %d, '%s'", rc, msg);
	else
		printf("ok: %s\n", msg);
	engine_sync(e, 5000);
	st = engine_cycle(e, in, out, BLOCK, NULL, 0, 0);
	if (st != ENGINE_OK || l[0] != 0.5f)
		fail("after the restart: status %d, output %g, want 0.5", st, l[0]);
	else
		printf("ok: the replayed patch plays again after the restart\n");
	engine_stop(e);
}

/* Open file descriptors and mappings of this process. */
static void
count_resources(unsigned *fds, unsigned *maps)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	*maps = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		(*maps)++;
	if (f != NULL)
		fclose(f);
	*fds = 0;
	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			(*fds)++;
}

/* Ten crashes and restarts leak no fd and no mapping. */
static void
test_no_leaks(void)
{
	static struct patch p;
	unsigned fds0, maps0, fds1, maps1;
	struct engine *e = start("global fault boom\nconnect in.1 boom.in\n"
	    "connect boom.out out.1\n", 0, 0, &p);
	float l[BLOCK], r[BLOCK];
	float *out[2] = { l, r };
	char msg[512];
	engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
	count_resources(&fds0, &maps0);
	for (int k = 0; k < 10; k++) {
		engine_kill_child(e);
		engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
		if (engine_supervise(e, &p, 0, msg, sizeof msg) != 1)
			fail("restart %d: %s", k, msg);
		engine_sync(e, 5000);
		engine_cycle(e, NULL, out, BLOCK, NULL, 0, 0);
	}
	count_resources(&fds1, &maps1);
	if (fds1 != fds0 || maps1 > maps0)
		fail("after 10 restarts: fds %u -> %u, mappings %u -> %u",
		    fds0, fds1, maps0, maps1);
	else
		printf("ok: 10 restarts leak nothing (fds %u, mappings %u)\n",
		    fds1, maps1);
	engine_stop(e);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);
	test_latency(0, 0);
	test_latency(1, 0);
	test_latency(0, 1);
	test_latency(1, 1);
	test_deadline();
	test_crash_and_replay();
	test_no_leaks();
	return test_status();
}
