/*
 * tests/jackio_test.c — the JACK client's meters and control-plane notes,
 * through a private `jackd -d dummy` this test starts under its own name:
 * output peaks are read and reset, the callback's busy time grows slower
 * than the wall clock, a held note sounds until its note off, all sound off
 * silences and drops the pending end of a timed note, a full note queue
 * says so.  Skipped (77) when jackd is not installed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "engine.h"
#include "futex.h"
#include "jackio.h"
#include "util.h"


/* One voice: a sine through a VCA opened by a fast envelope. */
static const char patch_text[] =
    "poly 4\n"
    "voice midi note\n"
    "voice vco osc wave=sine\n"
    "voice adsr env attack=0.001 decay=0.001 sustain=1 release=0.005\n"
    "voice vca amp gain=0.5\n"
    "connect note.pitch osc.pitch\n"
    "connect note.gate env.gate\n"
    "connect osc.out amp.in\n"
    "connect env.out amp.cv\n"
    "connect amp.out out.1\n";

/* Start `jackd -T -n name -d dummy` with its output thrown away; it ends
 * with its last client (-T), and with this test however the test ends
 * (PR_SET_PDEATHSIG: a test killed for a timeout leaves no server).  Its
 * pid, or 0 when jackd cannot be run. */
static pid_t
start_jackd(const char *name)
{
	char *argv[] = { "jackd", "-T", "-n", (char *)name, "-d", "dummy", "-r", "48000",
	    "-p", "256", NULL };
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		execvp("jackd", argv);
		_exit(127);
	}
	/* exec failed (no jackd): the child is gone at once */
	usleep(100000);
	int status;
	if (waitpid(pid, &status, WNOHANG) == pid)
		return 0;
	return pid;
}

/* The peak of out_1 (and out_2 into *other) over the next `ms` ms. */
static float
peak_over(struct jackio *j, unsigned ms, float *other)
{
	float p[2];
	jackio_peaks(j, p, 2);            /* forget what came before */
	usleep(ms * 1000u);
	if (jackio_peaks(j, p, 2) != 2)
		fail("jackio_peaks does not count 2 outputs");
	if (other != NULL)
		*other = p[1];
	return p[0];
}

/* Expect out_1 loud (> 0.1) or silent (< 0.001) over the next 100 ms. */
static void
expect(struct jackio *j, int loud, const char *what)
{
	float p = peak_over(j, 100, NULL);
	if (loud ? p > 0.1f : p < 0.001f)
		printf("ok: %s (peak %.4f)\n", what, p);
	else
		fail("%s: peak %.4f", what, p);
}

int
main(int argc, char **argv)
{
	static struct patch p;
	char err[256], server[64];
	struct patch_error perr;

	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);
	snprintf(server, sizeof server, "fsjio-%d", (int)getpid());
	setenv("JACK_DEFAULT_SERVER", server, 1);
	setenv("JACK_NO_START_SERVER", "1", 1);
	pid_t jackd = start_jackd(server);
	if (jackd == 0) {
		printf("skip: jackd cannot be run\n");
		return 77;
	}
	struct jack_options jo = {
		.name = "jiotest", .n_inputs = 0, .n_outputs = 2, .deadline = 0.75,
	};
	struct jackio *j = NULL;
	for (int tries = 0; tries < 100 && j == NULL; tries++) {
		usleep(100000);
		j = jackio_open(&jo, err, sizeof err);
	}
	if (j == NULL) {
		fail("no JACK client: %s", err);
		kill(jackd, SIGTERM);
		waitpid(jackd, NULL, 0);
		return test_status();
	}
	struct engine_options eo = {
		.rate = jackio_rate(j), .max_block = 8192, .n_outputs = 2,
		.threads = 2,
	};
	patch_init(&p, 0, 2);
	if (patch_load_text(&p, patch_text, "test", &perr) != 0)
		fail("patch: %s", perr.message);
	struct engine *e = engine_start(&eo, err, sizeof err);
	if (e == NULL || engine_load(e, &p) != 0 || engine_sync(e, 5000) != 0 ||
	    jackio_start(j, e, err, sizeof err) != 0) {
		fail("engine: %s", err);
		return test_status();
	}

	expect(j, 0, "silent before any note");
	jackio_note_on(j, 69, 127);
	usleep(50000);
	float other;
	float p1 = peak_over(j, 100, &other);
	if (p1 > 0.1f && other == 0.0f)
		printf("ok: a held note sounds on out_1 (peak %.4f), out_2 stays at 0\n", p1);
	else
		fail("held note: out_1 peak %.4f, out_2 peak %.4f", p1, other);
	usleep(300000);
	expect(j, 1, "still held 0.45 s later");
	jackio_note_off(j, 69);
	usleep(50000);
	expect(j, 0, "its note off silences it");

	jackio_note(j, 69, 127, 0.3);
	usleep(50000);
	expect(j, 1, "a timed note sounds");
	usleep(300000);
	expect(j, 0, "and ends by itself");

	jackio_note(j, 72, 127, 0.4);
	jackio_note_on(j, 76, 127);
	usleep(100000);
	jackio_panic(j);
	usleep(50000);
	expect(j, 0, "all sound off silences held and timed notes");
	jackio_note_on(j, 72, 127);
	usleep(400000);
	expect(j, 1, "the timed note's end was dropped: the note held after it plays on");
	jackio_note_off(j, 72);

	struct jackio_counters c0, c1;
	jackio_counters(j, &c0);
	uint64_t t0 = futex_now_ns();
	usleep(500000);
	jackio_counters(j, &c1);
	double wall = (double)(futex_now_ns() - t0);
	double busy = (double)(c1.busy_ns - c0.busy_ns);
	if (c1.cycles > c0.cycles && busy > 0 && busy < wall)
		printf("ok: the callback was busy %.2f %% of %.0f ms (%lu callbacks)\n",
		    100.0 * busy / wall, wall / 1e6, c1.cycles - c0.cycles);
	else
		fail("busy time %.0f ns over %.0f ns, %lu callbacks", busy, wall,
		    c1.cycles - c0.cycles);

	unsigned long pushed = 0;
	while (pushed < 1000000 && jackio_note_off(j, 60) == 0)
		pushed++;
	if (pushed < 1000000)
		printf("ok: a full note queue says so (after %lu notes)\n", pushed);
	else
		fail("a million notes queued, never full");

	jackio_close(j);
	engine_stop(e);
	kill(jackd, SIGTERM);
	waitpid(jackd, NULL, 0);
	return test_status();
}
