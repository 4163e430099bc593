/*
 * src/rtcheck.c — why SCHED_FIFO was refused (src/rtcheck.h).  The kernel
 * (sched_setscheduler) first asks for rights: CAP_SYS_NICE in the host's
 * user namespace, or an RLIMIT_RTPRIO at least the priority asked; then,
 * with CONFIG_RT_GROUP_SCHED, a real-time budget for the task's cpu
 * cgroup (cpu.rt_runtime_us not 0).  Both fail with EPERM, so the errno
 * alone cannot tell them apart; the facts read here can.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rtcheck.h"

/* CAP_SYS_NICE's bit in the capability sets (linux/capability.h). */
#define CAP_SYS_NICE_BIT 23
/* Where cgroup v1 mounts the hierarchy holding the cpu controller. */
static const char *const cpu_mounts[] = {
	"/sys/fs/cgroup/cpu,cpuacct",
	"/sys/fs/cgroup/cpu",
	"/sys/fs/cgroup/cpuacct,cpu",
};

/* Read at most size - 1 bytes of a small file into buf, NUL-terminated;
 * returns the length, or -1. */
static int
read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, size - 1, f);
	int failed = ferror(f);
	fclose(f);
	if (failed)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* A file holding one decimal number (-1 meaning unlimited); its value,
 * or RTCHECK_UNKNOWN. */
static long
read_long(const char *path)
{
	char buf[64], *end;
	if (read_text(path, buf, sizeof buf) <= 0)
		return RTCHECK_UNKNOWN;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v < -1)
		return RTCHECK_UNKNOWN;
	return v;
}

/* Whether the CapEff line of a status text holds CAP_SYS_NICE. */
int
rtcheck_parse_cap_sys_nice(const char *status)
{
	const char *p = status;
	while (p != NULL && *p != '\0') {
		if (strncmp(p, "CapEff:", 7) == 0) {
			char *end;
			unsigned long long caps = strtoull(p + 7, &end, 16);
			if (end == p + 7)
				return -1;
			return (caps >> CAP_SYS_NICE_BIT) & 1;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* Whether uid_map is the host's own one-line identity mapping. */
int
rtcheck_parse_user_ns(const char *uid_map)
{
	unsigned long inside, outside, count;
	if (sscanf(uid_map, "%lu %lu %lu", &inside, &outside, &count) != 3)
		return -1;
	const char *nl = strchr(uid_map, '\n');
	int one_line = nl == NULL || nl[1 + strspn(nl + 1, " \t\n")] == '\0';
	/* the host's namespace maps all of 0 .. 2^32 - 2 onto itself */
	return inside == 0 && outside == 0 && count == 4294967295ul &&
	    one_line ? 0 : 1;
}

/* The path of the v1 hierarchy holding the cpu controller, from a
 * /proc/self/cgroup text. */
int
rtcheck_parse_cpu_cgroup(const char *cgroup, char *path, size_t size)
{
	const char *line = cgroup;
	while (line != NULL && *line != '\0') {
		/* "ID:CONTROLLERS:PATH"; v2 has no controllers */
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 != NULL ? memchr(c1 + 1, ':',
		    len - (size_t)(c1 + 1 - line)) : NULL;
		if (c2 != NULL) {
			/* is "cpu" one of the comma-separated controllers? */
			const char *c = c1 + 1;
			while (c < c2) {
				const char *comma = memchr(c, ',', (size_t)(c2 - c));
				const char *e = comma != NULL ? comma : c2;
				if (e - c == 3 && strncmp(c, "cpu", 3) == 0) {
					size_t plen = len - (size_t)(c2 + 1 - line);
					if (plen == 0 || plen >= size)
						return -1;
					memcpy(path, c2 + 1, plen);
					path[plen] = '\0';
					return 0;
				}
				c = e + 1;
			}
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return -1;
}

/* The cgroup v1 cpu.rt_runtime_us of this process's cpu cgroup into
 * f->cgroup_rt_runtime, and the file it came from.  Inside a container
 * the hierarchy is often mounted at the container's own cgroup, so that
 * the path /proc/self/cgroup names is not there: then the mount's root is
 * the cgroup. */
static void
read_cgroup_budget(struct rtcheck_facts *f)
{
	char text[4096], cg[200], file[sizeof f->cgroup_file];

	f->cgroup_rt_runtime = RTCHECK_UNKNOWN;
	f->cgroup_file[0] = '\0';
	if (read_text("/proc/self/cgroup", text, sizeof text) <= 0 ||
	    rtcheck_parse_cpu_cgroup(text, cg, sizeof cg) != 0)
		return;
	for (size_t i = 0; i < sizeof cpu_mounts / sizeof cpu_mounts[0]; i++) {
		const char *tries[2] = { cg, "/" };
		for (int k = 0; k < 2; k++) {
			snprintf(file, sizeof file, "%s%s%scpu.rt_runtime_us",
			    cpu_mounts[i], tries[k],
			    tries[k][strlen(tries[k]) - 1] == '/' ? "" : "/");
			long v = read_long(file);
			if (v != RTCHECK_UNKNOWN) {
				f->cgroup_rt_runtime = v;
				snprintf(f->cgroup_file, sizeof f->cgroup_file,
				    "%s", file);
				return;
			}
		}
	}
}

/* Read the facts from getrlimit, /proc and /sys. */
void
rtcheck_gather(struct rtcheck_facts *f, int err, int priority)
{
	char text[4096];
	struct rlimit rl;

	memset(f, 0, sizeof *f);
	f->err = err;
	f->priority = priority;
	if (getrlimit(RLIMIT_RTPRIO, &rl) != 0)
		f->rlimit_rtprio = RTCHECK_UNKNOWN;
	else if (rl.rlim_cur == RLIM_INFINITY)
		f->rlimit_rtprio = RTCHECK_UNLIMITED;
	else
		f->rlimit_rtprio = rl.rlim_cur > 1000 ? 1000 : (long)rl.rlim_cur;
	f->cap_sys_nice = read_text("/proc/self/status", text, sizeof text) > 0 ?
	    rtcheck_parse_cap_sys_nice(text) : -1;
	f->user_ns = read_text("/proc/self/uid_map", text, sizeof text) > 0 ?
	    rtcheck_parse_user_ns(text) : -1;
	f->root = geteuid() == 0;
	f->kernel_rt_runtime = read_long("/proc/sys/kernel/sched_rt_runtime_us");
	read_cgroup_budget(f);
}

/* Append to buf (holding `*len` bytes of `size`) like snprintf. */
static void
append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	if (*len >= size - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < size - *len ? (size_t)n : size - 1 - *len;
}

/* A limit as text: "unlimited", "unknown" or the number. */
static const char *
limit_text(long v, char *buf, size_t size)
{
	if (v == RTCHECK_UNLIMITED)
		return "unlimited";
	if (v == RTCHECK_UNKNOWN)
		return "unknown";
	snprintf(buf, size, "%ld", v);
	return buf;
}

/* The most likely cause of the refusal in f, first as the kernel checks:
 * rights, then the cgroup's budget, then the kernel's. */
void
rtcheck_explain(const struct rtcheck_facts *f, char *buf, size_t size)
{
	char num[24];
	const char *lim;
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	append(buf, size, &len, "real-time scheduling refused (%s): ",
	    strerror(f->err));
	if (f->err == EINVAL) {
		append(buf, size, &len, "priority %d is not one SCHED_FIFO takes "
		    "here; start jackd with a lower -P", f->priority);
		return;
	}
	if (f->err != EPERM) {
		append(buf, size, &len, "an unexpected error; check ulimit -r, "
		    "CAP_SYS_NICE and the cgroup's cpu.rt_runtime_us");
		return;
	}
	int by_cap = f->cap_sys_nice == 1 && f->user_ns != 1;
	int by_limit = f->rlimit_rtprio == RTCHECK_UNLIMITED ||
	    (f->rlimit_rtprio >= 0 && f->rlimit_rtprio >= f->priority);
	int rights_known = f->cap_sys_nice != -1 &&
	    f->rlimit_rtprio != RTCHECK_UNKNOWN;
	int no_budget = f->cgroup_rt_runtime == 0;

	if (rights_known && !by_cap && !by_limit) {
		lim = limit_text(f->rlimit_rtprio, num, sizeof num);
		if (f->root && f->user_ns == 1)
			append(buf, size, &len, "root of a user namespace (a "
			    "rootless container), whose capabilities do not "
			    "reach the scheduler, and RLIMIT_RTPRIO is %s; "
			    "raise the container's limit (docker run "
			    "--ulimit rtprio=95)", lim);
		else if (f->root)
			append(buf, size, &len, "running as root without "
			    "CAP_SYS_NICE (a container drops it), and "
			    "RLIMIT_RTPRIO is %s; run the container with "
			    "--cap-add=SYS_NICE or --ulimit rtprio=95", lim);
		else if (f->rlimit_rtprio == 0)
			append(buf, size, &len, "RLIMIT_RTPRIO is 0; add the "
			    "user to the audio group (/etc/security/limits.d/"
			    "audio.conf: @audio - rtprio 95) and log in again, "
			    "or run jackd's setup (dpkg-reconfigure jackd2)");
		else
			append(buf, size, &len, "RLIMIT_RTPRIO is %s, below the "
			    "priority asked (%d); raise it (/etc/security/"
			    "limits.d/audio.conf: @audio - rtprio 95) or start "
			    "jackd with a lower -P", lim, f->priority);
		if (no_budget)
			append(buf, size, &len, "; then also give the cgroup a "
			    "real-time budget (%s is 0)", f->cgroup_file);
		return;
	}
	if (no_budget) {
		append(buf, size, &len, "this process's cgroup has "
		    "cpu.rt_runtime_us 0 (%s); give it an RT budget (echo "
		    "950000 > it, its parents first) or run in the root cgroup "
		    "(docker: --cpu-rt-runtime=950000)", f->cgroup_file);
		return;
	}
	if (f->kernel_rt_runtime == 0) {
		append(buf, size, &len, "kernel.sched_rt_runtime_us is 0, no "
		    "time at all for real-time threads; sysctl -w "
		    "kernel.sched_rt_runtime_us=950000");
		return;
	}
	if (!rights_known) {
		append(buf, size, &len, "could not read RLIMIT_RTPRIO or "
		    "CAP_SYS_NICE; check ulimit -r and capsh --print");
		return;
	}
	append(buf, size, &len, "rights (%s) and real-time budgets look "
	    "sufficient; a security policy (seccomp, SELinux) or a cgroup v2 "
	    "cpu controller with CONFIG_RT_GROUP_SCHED may forbid it",
	    by_cap ? "CAP_SYS_NICE" : "RLIMIT_RTPRIO");
}

/* Gather the facts for a refusal and explain it. */
void
rtcheck_diagnose(int err, int priority, char *buf, size_t size)
{
	struct rtcheck_facts f;
	rtcheck_gather(&f, err, priority);
	rtcheck_explain(&f, buf, size);
}
