/*
 * tests/standby_engine_test.c — the warm standby through the engine's own
 * API, with real forked children and no JACK: cycles are run with a
 * deadline as the JACK callback runs them, the supervisor's call in
 * between.  A standby comes up with the patch; SIGKILL and SIGSTOP of the
 * playing child make the standby the playing one, which plays the note
 * held before the fault and the edit made before it; the old child is
 * reaped and a new standby started; killing the standby replaces it and
 * counts no restart; with both killed at once, a restart replays the held
 * note; children killed from outside as they start (a thread kills every
 * child the moment it appears) never count toward giving up.  Bounds are
 * on counts and levels, never on time.
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "futex.h"
#include "module.h"
#include "util.h"

#define BLOCK 256
#define RATE 48000

static struct patch patch;
static float out_l[BLOCK], out_r[BLOCK];
static unsigned failed_restarts;   /* "restart failed" from the supervisor */

/* One cycle with a deadline of 3/4 of the period (as live), then the
 * supervisor's look; returns the block's peak.  `ev`: events or NULL. */
static float
cycle(struct engine *e, const struct region_midi *ev, unsigned n_ev)
{
	float *out[2] = { out_l, out_r };
	char msg[600];
	uint64_t deadline = futex_now_ns() + (uint64_t)BLOCK * 750000000ull / RATE;
	engine_cycle(e, NULL, out, BLOCK, ev, n_ev, deadline);
	if (engine_supervise(e, &patch, 0, msg, sizeof msg) != 0) {
		printf("supervisor: %s\n", msg);
		if (strstr(msg, "restart failed") != NULL)
			failed_restarts++;
	}
	float peak = 0;
	for (unsigned i = 0; i < BLOCK; i++)
		peak = fabsf(out_l[i]) > peak ? fabsf(out_l[i]) : peak;
	/* about a period of wall time per cycle, as JACK would */
	usleep(BLOCK * 1000000 / RATE);
	return peak;
}

/* Run cycles until the standby is ready (60 s of cycles at most). */
/* Wait up to 10 s for child `pid` to be dead and not yet reaped (state Z
 * in /proc); 1 when it is, or when it is gone already. */
static int
until_zombie(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 10000; i++) {
		FILE *f = fopen(path, "r");
		if (f == NULL)
			return 1;
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		stat[n] = '\0';
		const char *paren = strrchr(stat, ')');
		if (paren != NULL && paren[1] == ' ' && paren[2] == 'Z')
			return 1;
		usleep(1000);
	}
	return 0;
}

static int
until_ready(struct engine *e)
{
	struct engine_info ei;
	for (int i = 0; i < 60 * RATE / BLOCK; i++) {
		engine_info(e, &ei);
		if (ei.standby == ENGINE_STANDBY_READY)
			return 1;
		cycle(e, NULL, 0);
	}
	return 0;
}

/* Run cycles until the output peaks at `level` or more; 1 when it does
 * (within 30 s of cycles). */
static int
until_sounds(struct engine *e, float level)
{
	for (int i = 0; i < 30 * RATE / BLOCK; i++)
		if (cycle(e, NULL, 0) >= level)
			return 1;
	return 0;
}

/* Whether `pid` has ended and been reaped. */
static int
gone(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	return access(path, F_OK) != 0;
}

/* The killer: SIGKILL every child of this process the moment it shows in
 * /proc (any thread's children), until told to stop. */
static atomic_int killing;
static atomic_uint kills;

static void *
killer(void *arg)
{
	(void)arg;
	while (atomic_load(&killing)) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *t;
		while (d != NULL && (t = readdir(d)) != NULL) {
			char path[300];
			if (t->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
			FILE *f = fopen(path, "r");
			int pid;
			while (f != NULL && fscanf(f, "%d", &pid) == 1)
				if (kill(pid, SIGKILL) == 0)
					atomic_fetch_add(&kills, 1);
			if (f != NULL)
				fclose(f);
		}
		if (d != NULL)
			closedir(d);
		usleep(200);
	}
	return NULL;
}

/* Kill the playing child with `sig`; expect the standby to play next, the
 * note to sound again, the old child reaped and a new standby. */
static void
takeover(struct engine *e, int sig, const char *what)
{
	struct engine_info before, after;
	if (!until_ready(e)) {
		fail("%s: no standby ready", what);
		return;
	}
	engine_info(e, &before);
	kill(before.child_pid, sig);
	for (int i = 0; i < 2000; i++) {
		engine_info(e, &after);
		if (after.child_pid != before.child_pid)
			break;
		cycle(e, NULL, 0);
	}
	engine_info(e, &after);
	if (after.child_pid == before.standby_pid && after.takeovers == before.takeovers + 1 &&
	    after.restarts == before.restarts + 1)
		printf("%s: the standby (pid %d) plays now: ok\n", what, (int)after.child_pid);
	else
		fail("%s: playing pid %d (standby was %d), takeovers %lu, restarts %lu",
		    what, (int)after.child_pid, (int)before.standby_pid,
		    after.takeovers, after.restarts);
	if (until_sounds(e, 0.4f))
		printf("%s: the held note sounds again: ok\n", what);
	else
		fail("%s: the held note does not sound again", what);
	for (int i = 0; i < 400 && !gone(before.child_pid); i++)
		cycle(e, NULL, 0);
	if (gone(before.child_pid))
		printf("%s: the old child is reaped: ok\n", what);
	else
		fail("%s: the old child %d is still there", what, (int)before.child_pid);
	if (until_ready(e))
		printf("%s: a new standby is ready: ok\n", what);
	else
		fail("%s: no new standby", what);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);

	const char *text =
	    "poly 4\n"
	    "voice midi note\n"
	    "voice vco osc wave=sine\n"
	    "voice adsr env attack=0.002 decay=0.1 sustain=1 release=0.05\n"
	    "voice vca amp gain=0.25\n"
	    "connect note.pitch osc.pitch\n"
	    "connect note.gate env.gate\n"
	    "connect osc.out amp.in\n"
	    "connect env.out amp.cv\n"
	    "connect amp.out out.1\n";
	struct patch_error perr;
	char err[256];
	struct engine_options o = {
		.rate = RATE, .max_block = BLOCK, .n_inputs = 0, .n_outputs = 2,
		.threads = 2, .hang_ms = 1000, .live = 1,
	};
	patch_init(&patch, 0, 2);
	if (patch_load_text(&patch, text, "test", &perr) != 0) {
		fprintf(stderr, "patch: %s\n", perr.message);
		return 99;
	}
	struct engine *e = engine_start(&o, err, sizeof err);
	if (e == NULL) {
		fprintf(stderr, "engine: %s\n", err);
		return 99;
	}
	engine_load(e, &patch);
	engine_sync(e, 30000);
	if (until_ready(e))
		printf("a standby comes up with the patch: ok\n");
	else
		fail("no standby after 60 s of cycles");

	/* a note held, and an edit the standby must have too: the gain to 0.5
	 * (peaks near 0.5, where 0.25 would peak near 0.25) */
	struct region_midi on = { .kind = NOTE_EVENT_ON, .note = 69, .velocity = 127 };
	cycle(e, &on, 1);
	struct patch_error pe;
	patch_exec_line(&patch, "set amp.gain 0.5", 0, &pe);
	engine_command(e, "set amp.gain 0.5");
	if (until_sounds(e, 0.4f))
		printf("the held note sounds with the edit: ok\n");
	else
		fail("the held note does not sound");

	takeover(e, SIGKILL, "SIGKILL");
	takeover(e, SIGSTOP, "SIGSTOP");

	/* the standby killed: replaced, no restart, the same child plays */
	struct engine_info a, b;
	until_ready(e);
	engine_info(e, &a);
	kill(a.standby_pid, SIGKILL);
	for (int i = 0; i < 400; i++) {
		engine_info(e, &b);
		if (b.standby_lost == a.standby_lost + 1)
			break;
		cycle(e, NULL, 0);
	}
	engine_info(e, &b);
	if (b.child_pid == a.child_pid && b.restarts == a.restarts &&
	    b.standby_lost == a.standby_lost + 1 && until_ready(e))
		printf("a killed standby is replaced; the playing child untouched: ok\n");
	else
		fail("after the standby's kill: pid %d->%d restarts %lu->%lu lost %lu->%lu",
		    (int)a.child_pid, (int)b.child_pid, a.restarts, b.restarts,
		    a.standby_lost, b.standby_lost);

	/* both killed at once: a restart, which replays the held note.  "At
	 * once" as the engine sees it: both are dead (zombies, not reaped:
	 * no cycle runs meanwhile) before its next cycle; killed one after
	 * the other between cycles, the engine may rightly take over to a
	 * standby whose SIGKILL has not landed yet, as a loaded machine
	 * showed */
	engine_info(e, &a);
	kill(a.standby_pid, SIGKILL);
	int standby_dead = until_zombie(a.standby_pid);
	kill(a.child_pid, SIGKILL);
	if (!standby_dead || !until_zombie(a.child_pid))
		fail("both killed: a SIGKILLed child still runs after 10 s");
	for (int i = 0; i < 2000; i++) {
		engine_info(e, &b);
		if (b.restarts > a.restarts && b.child_pid > 0)
			break;
		cycle(e, NULL, 0);
	}
	engine_info(e, &b);
	if (b.restarts == a.restarts + 1 && b.takeovers == a.takeovers)
		printf("both killed: one restart, no takeover: ok\n");
	else
		fail("both killed: restarts %lu->%lu takeovers %lu->%lu",
		    a.restarts, b.restarts, a.takeovers, b.takeovers);
	if (until_sounds(e, 0.4f))
		printf("after the restart the held note sounds again: ok\n");
	else
		fail("after the restart the held note is silent");

	/* every child killed as it starts: many restarts, none of them the
	 * child's fault, so no streak and no giving up */
	pthread_t k;
	unsigned worst_streak = 0;
	atomic_store(&killing, 1);
	pthread_create(&k, NULL, killer, NULL);
	engine_info(e, &a);
	for (int i = 0; i < 4000 && (failed_restarts < 5 || i < 200); i++) {
		cycle(e, NULL, 0);
		engine_info(e, &b);
		if (b.crash_streak > worst_streak)
			worst_streak = b.crash_streak;
		if (b.failed)
			break;
	}
	atomic_store(&killing, 0);
	pthread_join(k, NULL);
	engine_info(e, &b);
	printf("figure: %u kills, %lu restarts, %u of them killed while starting\n",
	    atomic_load(&kills), b.restarts - a.restarts, failed_restarts);
	if (!b.failed && worst_streak == 0)
		printf("kills as children start never count toward giving up: ok\n");
	else
		fail("kills as children start: gave up %d, worst crash streak %u",
		    b.failed, worst_streak);
	if (!b.failed && until_sounds(e, 0.4f))
		printf("once the kills stop, the held note sounds again: ok\n");
	else
		fail("after the kills the engine does not play");

	engine_stop(e);
	return test_status();
}
