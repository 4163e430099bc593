/*
 * tests/rtcheck_test.c — the diagnosis of a refused SCHED_FIFO: made-up
 * facts (rights, user namespace, the kernel's and the cgroup's real-time
 * budget) give the cause the kernel would meet first and the fix for it;
 * the parsers of /proc/self/status, uid_map and cgroup read what the
 * kernel writes.  Needs no privileges; the real system is only described.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "check.h"
#include "rtcheck.h"

/* Facts of a user with every right and budget: nothing to refuse. */
static struct rtcheck_facts
fine(void)
{
	struct rtcheck_facts f = {
		.err = EPERM, .priority = 79, .rlimit_rtprio = 95,
		.cap_sys_nice = 0, .user_ns = 0, .root = 0,
		.kernel_rt_runtime = 950000, .cgroup_rt_runtime = RTCHECK_UNKNOWN,
	};
	return f;
}

/* Explain f and check that the line holds each of the NULL-ended texts. */
static void
expect(const char *what, const struct rtcheck_facts *f, ...)
{
	char line[512];
	va_list ap;

	rtcheck_explain(f, line, sizeof line);
	printf("%s: %s\n", what, line);
	CHECK(strncmp(line, "real-time scheduling refused (", 30) == 0,
	    "%s: no prefix: %s", what, line);
	va_start(ap, f);
	for (const char *t; (t = va_arg(ap, const char *)) != NULL; )
		CHECK(strstr(line, t) != NULL, "%s: '%s' not in: %s", what, t, line);
	va_end(ap);
	CHECK(strchr(line, '\n') == NULL, "%s: more than one line", what);
}

/* The causes, one at a time and where two meet. */
static void
test_causes(void)
{
	struct rtcheck_facts f;

	f = fine();
	f.rlimit_rtprio = 0;
	expect("user, limit 0", &f, "(Operation not permitted): RLIMIT_RTPRIO "
	    "is 0; add the user to the audio group", "@audio - rtprio 95",
	    "jackd's setup", NULL);
	f.rlimit_rtprio = 50;
	expect("user, limit below", &f, "RLIMIT_RTPRIO is 50, below the "
	    "priority asked (79)", NULL);
	f.rlimit_rtprio = 79;
	f.cgroup_rt_runtime = 0;
	snprintf(f.cgroup_file, sizeof f.cgroup_file,
	    "/sys/fs/cgroup/cpu/docker/abc/cpu.rt_runtime_us");
	expect("user, limit enough, cgroup without budget", &f,
	    "cgroup has cpu.rt_runtime_us 0 (/sys/fs/cgroup/cpu/docker/abc/"
	    "cpu.rt_runtime_us)", "root cgroup", NULL);

	/* root with CAP_SYS_NICE, refused all the same: the cgroup */
	f = fine();
	f.root = 1;
	f.cap_sys_nice = 1;
	f.rlimit_rtprio = 0;
	f.cgroup_rt_runtime = 0;
	snprintf(f.cgroup_file, sizeof f.cgroup_file, "/x/cpu.rt_runtime_us");
	expect("root, cgroup without budget", &f, "cpu.rt_runtime_us 0 "
	    "(/x/cpu.rt_runtime_us)", NULL);
	/* a cgroup with a budget, or none at all (v2): not the cause */
	f.cgroup_rt_runtime = 950000;
	expect("root, kernel budget fine", &f, "look sufficient",
	    "CAP_SYS_NICE", NULL);
	f.cgroup_rt_runtime = RTCHECK_UNKNOWN;
	f.kernel_rt_runtime = 0;
	expect("root, kernel budget 0", &f, "kernel.sched_rt_runtime_us is 0",
	    "=950000", NULL);
	f.kernel_rt_runtime = RTCHECK_UNLIMITED;
	expect("root, kernel unlimited", &f, "look sufficient", NULL);

	/* root in a container that dropped CAP_SYS_NICE */
	f = fine();
	f.root = 1;
	f.rlimit_rtprio = 0;
	expect("root without CAP_SYS_NICE", &f, "root without CAP_SYS_NICE",
	    "--cap-add=SYS_NICE", "RLIMIT_RTPRIO is 0", NULL);
	/* root of a user namespace: its CAP_SYS_NICE does not count */
	f.cap_sys_nice = 1;
	f.user_ns = 1;
	expect("root of a user namespace", &f, "user namespace",
	    "--ulimit rtprio=95", NULL);
	/* ... unless the limit allows it */
	f.rlimit_rtprio = RTCHECK_UNLIMITED;
	expect("user namespace, limit unlimited", &f, "look sufficient",
	    "RLIMIT_RTPRIO", NULL);

	/* no rights and no budget: the rights first, the budget after */
	f = fine();
	f.rlimit_rtprio = 0;
	f.cgroup_rt_runtime = 0;
	snprintf(f.cgroup_file, sizeof f.cgroup_file, "/c/cpu.rt_runtime_us");
	expect("no rights, no budget", &f, "RLIMIT_RTPRIO is 0",
	    "then also give the cgroup a real-time budget "
	    "(/c/cpu.rt_runtime_us is 0)", NULL);
	char line[512];
	rtcheck_explain(&f, line, sizeof line);
	CHECK(strstr(line, "RLIMIT_RTPRIO") < strstr(line, "cgroup"),
	    "rights come before the budget: %s", line);

	/* what could not be read is said, not guessed */
	f = fine();
	f.rlimit_rtprio = RTCHECK_UNKNOWN;
	f.cap_sys_nice = -1;
	expect("rights unknown", &f, "could not read", NULL);

	/* other errors than EPERM */
	f = fine();
	f.err = EINVAL;
	f.priority = 120;
	expect("EINVAL", &f, "(Invalid argument): priority 120", "-P", NULL);
	f.err = EAGAIN;
	expect("EAGAIN", &f, "unexpected", NULL);
}

/* A buffer too small: cut, terminated, never overrun. */
static void
test_truncation(void)
{
	struct rtcheck_facts f = fine();
	char buf[32];

	f.rlimit_rtprio = 0;
	memset(buf, 'x', sizeof buf);
	rtcheck_explain(&f, buf + 1, 20);
	CHECK(strlen(buf + 1) == 19, "cut to 19 chars: %zu", strlen(buf + 1));
	CHECK(buf[0] == 'x' && buf[21] == 'x', "wrote outside the buffer");
	rtcheck_explain(&f, buf, 1);
	CHECK(buf[0] == '\0', "size 1: empty");
}

/* The parsers, on text as the kernel writes it. */
static void
test_parsers(void)
{
	char path[64];

	CHECK(rtcheck_parse_cap_sys_nice("Name:\tx\nCapInh:\t0000000000000000\n"
	    "CapEff:\t000001fffeffffff\nCapBnd:\t0\n") == 1, "full caps");
	/* docker's default set: no CAP_SYS_NICE */
	CHECK(rtcheck_parse_cap_sys_nice("CapPrm:\t00000000a80425fb\n"
	    "CapEff:\t00000000a80425fb\n") == 0, "docker's default caps");
	CHECK(rtcheck_parse_cap_sys_nice("CapEff:\t0000000000800000\n") == 1,
	    "only CAP_SYS_NICE");
	CHECK(rtcheck_parse_cap_sys_nice("Name:\tx\n") == -1, "no CapEff");
	CHECK(rtcheck_parse_cap_sys_nice("CapEff:\tzz\n") == -1, "bad CapEff");

	CHECK(rtcheck_parse_user_ns("         0          0 4294967295\n") == 0,
	    "the host's mapping");
	CHECK(rtcheck_parse_user_ns("         0     100000      65536\n") == 1,
	    "a rootless container's mapping");
	CHECK(rtcheck_parse_user_ns("0 0 4294967295\n5 5 1\n") == 1,
	    "two lines: not the host's");
	CHECK(rtcheck_parse_user_ns("") == -1, "empty uid_map");

	CHECK(rtcheck_parse_cpu_cgroup("5:memory:/m\n4:cpu,cpuacct:/docker/abc\n"
	    "0::/\n", path, sizeof path) == 0 && strcmp(path, "/docker/abc") == 0,
	    "cpu,cpuacct: %s", path);
	CHECK(rtcheck_parse_cpu_cgroup("2:cpuacct:/a\n1:cpu:/\n", path,
	    sizeof path) == 0 && strcmp(path, "/") == 0, "cpu alone: %s", path);
	CHECK(rtcheck_parse_cpu_cgroup("3:cpuset:/a\n2:cpuacct:/b\n0::/c\n",
	    path, sizeof path) == -1, "cpuset and cpuacct are not cpu");
	CHECK(rtcheck_parse_cpu_cgroup("0::/user.slice/x.scope\n", path,
	    sizeof path) == -1, "cgroup v2 only");
	CHECK(rtcheck_parse_cpu_cgroup("4:cpu:/very/long/path/that/does/not/"
	    "fit/in/sixty/four/bytes/of/buffer/at/all\n", path, sizeof path) == -1,
	    "a path too long is refused");
}

/* The real system, described (whatever it grants). */
static void
test_here(void)
{
	char line[512];
	struct rtcheck_facts f;

	rtcheck_gather(&f, EPERM, 79);
	printf("here: rlimit %ld, CAP_SYS_NICE %d, user_ns %d, root %d, kernel "
	    "%ld, cgroup %ld (%s)\n", f.rlimit_rtprio, f.cap_sys_nice, f.user_ns,
	    f.root, f.kernel_rt_runtime, f.cgroup_rt_runtime,
	    f.cgroup_file[0] ? f.cgroup_file : "none");
	rtcheck_diagnose(EPERM, 79, line, sizeof line);
	printf("here, were it refused: %s\n", line);
	CHECK(strncmp(line, "real-time scheduling refused", 28) == 0, "%s", line);
}

int
main(void)
{
	test_causes();
	test_truncation();
	test_parsers();
	test_here();
	return check_verdict();
}
