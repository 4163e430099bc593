/*
 * src/rtcheck.h — why a SCHED_FIFO request was refused: the facts that
 * decide it (RLIMIT_RTPRIO, CAP_SYS_NICE, user namespace, the kernel's and
 * the cgroup's real-time budget), read from the system, and one line that
 * names the most likely cause and what to do.
 *
 * Control plane only: it reads files under /proc and /sys.  The decision
 * (rtcheck_explain) reads nothing, so tests feed it made-up facts.
 */
#ifndef FORKSYNTH_RTCHECK_H
#define FORKSYNTH_RTCHECK_H

#include <stddef.h>

/* A fact that could not be read. */
#define RTCHECK_UNKNOWN (-2L)
/* A limit or budget that is unlimited (RLIM_INFINITY; a runtime of -1). */
#define RTCHECK_UNLIMITED (-1L)

/* What decides whether a process may have SCHED_FIFO. */
struct rtcheck_facts {
	int err;                  /* errno of the refusal (EPERM, EINVAL, ...) */
	int priority;             /* SCHED_FIFO priority asked for */
	long rlimit_rtprio;       /* soft RLIMIT_RTPRIO, RTCHECK_UNLIMITED or
				     RTCHECK_UNKNOWN */
	int cap_sys_nice;         /* CAP_SYS_NICE in CapEff: 1, 0, -1 unknown */
	int user_ns;              /* in a user namespace other than the
				     host's (a rootless container): 1, 0,
				     -1 unknown */
	int root;                 /* effective uid 0 */
	long kernel_rt_runtime;   /* /proc/sys/kernel/sched_rt_runtime_us, µs:
				     RTCHECK_UNLIMITED or RTCHECK_UNKNOWN */
	long cgroup_rt_runtime;   /* cgroup v1 cpu.rt_runtime_us of this
				     process's cpu cgroup, µs; RTCHECK_UNKNOWN
				     where there is none (cgroup v2, no
				     CONFIG_RT_GROUP_SCHED) */
	char cgroup_file[256];    /* the cpu.rt_runtime_us it was read from */
};

/* Read the facts for a refusal with errno `err` of priority `priority`. */
void rtcheck_gather(struct rtcheck_facts *f, int err, int priority);

/*
 * One line for the user: "real-time scheduling refused (STRERROR): CAUSE;
 * WHAT TO DO", the cause the most likely one given `f` (the first the
 * kernel checks).  Always NUL-terminated, cut to `size`.
 */
void rtcheck_explain(const struct rtcheck_facts *f, char *buf, size_t size);

/* rtcheck_gather, then rtcheck_explain. */
void rtcheck_diagnose(int err, int priority, char *buf, size_t size);

/* From the text of /proc/self/status: whether CapEff holds CAP_SYS_NICE
 * (bit 23): 1, 0, or -1 when there is no CapEff line. */
int rtcheck_parse_cap_sys_nice(const char *status);

/* From the text of /proc/self/uid_map: 0 for the host's own mapping
 * ("0 0 4294967295"), 1 for any other, -1 when it is unreadable. */
int rtcheck_parse_user_ns(const char *uid_map);

/* From the text of /proc/self/cgroup: the path of the cgroup v1 hierarchy
 * whose controllers include "cpu", into path.  Returns 0, or -1 when there
 * is none (cgroup v2 only). */
int rtcheck_parse_cpu_cgroup(const char *cgroup, char *path, size_t size);

#endif
