/*
 * tests/shm_hygiene_test.c — creating and destroying the shared region many
 * times leaks nothing: no fd (/proc/self/fd), no mapping (/proc/self/maps),
 * no name left in /dev/shm, with memfd and with the shm_open fallback
 * (forced by flag and by FORKSYNTH_SHM=shm_open).  Also: the fd is
 * close-on-exec, shm_map_fd checks the size, and a region survives a real
 * fork + exec through shm_fd_for_exec, as the DSP child will see it.
 * Exit status 0 when every check passes, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"

#define ROUNDS      500
#define REGION      (256u * 1024 + 100)  /* bytes; deliberately not page sized */
#define EXEC_FD     37                   /* fd number the exec'd child gets */

static int failures;

/* Count and report one failed check. */
static void
check(int ok, const char *what)
{
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL: %s\n", what);
	}
}

/* Entries in a directory whose name starts with prefix (NULL: all). */
static int
count_dir(const char *path, const char *prefix)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir(path)) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (prefix == NULL || strncmp(d->d_name, prefix, strlen(prefix)) == 0)
			n++;
	}
	closedir(dir);
	return n - (prefix == NULL);  /* opendir's own fd */
}

/* Lines of /proc/self/maps, and how many name the region. */
static int
count_maps(int *ours)
{
	char line[512];
	FILE *f;
	int n = 0;

	*ours = 0;
	if ((f = fopen("/proc/self/maps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (strstr(line, "forksynth") != NULL)
			(*ours)++;
	}
	fclose(f);
	return n;
}

/* Our pid's names in /dev/shm. */
static int
count_devshm(void)
{
	char prefix[64];

	snprintf(prefix, sizeof prefix, "forksynth-%ld-", (long)getpid());
	return count_dir("/dev/shm", prefix);
}

/* Create, check, map a second view (as the child does), destroy; ROUNDS times. */
static void
rounds(const char *label, unsigned flags, const char *want_backend)
{
	struct shm s, v;
	int fds0, maps0, ours0, fds1, maps1, ours1, i, err, fl, ok = 1;
	unsigned char *p;

	fds0 = count_dir("/proc/self/fd", NULL);
	maps0 = count_maps(&ours0);
	for (i = 0; i < ROUNDS; i++) {
		if ((err = shm_create(&s, REGION, flags)) != 0) {
			fprintf(stderr, "%s: %s\n", label, s.error);
			check(0, "shm_create");
			return;
		}
		if (i == 0) {
			check(strcmp(s.backend, want_backend) == 0, "backend");
			fl = fcntl(s.fd, F_GETFD);
			check(fl >= 0 && (fl & FD_CLOEXEC), "region fd is close-on-exec");
			check(count_devshm() == 0, "no name in /dev/shm while open");
		}
		p = s.base;
		p[0] = 1;
		p[REGION - 1] = 2;
		/* Second view at another address, like the child's. */
		err = shm_map_fd(&v, dup(s.fd), 0, 0);
		if (err != 0 || v.base == s.base || v.size != REGION ||
		    ((unsigned char *)v.base)[REGION - 1] != 2) {
			ok = 0;
			if (err != 0)
				fprintf(stderr, "%s: %s\n", label, v.error);
		}
		if (err == 0)
			shm_close(&v);
		shm_close(&s);
	}
	check(ok, "second view sees the same bytes");
	fds1 = count_dir("/proc/self/fd", NULL);
	maps1 = count_maps(&ours1);
	check(fds1 == fds0, "no fd leaked");
	check(maps1 == maps0 && ours1 == ours0, "no mapping leaked");
	check(count_devshm() == 0, "no name left in /dev/shm");
	printf("%-22s %d rounds: fds %d -> %d, maps %d -> %d (region maps %d), "
	    "/dev/shm names %d\n", label, ROUNDS, fds0, fds1, maps0, maps1,
	    ours1, count_devshm());
}

/* Bad input gives a message and leaves nothing open. */
static void
errors(void)
{
	struct shm s, v;
	int fds0 = count_dir("/proc/self/fd", NULL), err;

	check(shm_create(&s, 0, 0) != 0 && s.error[0] != 0, "size 0 refused");
	if (shm_create(&s, REGION, 0) == 0) {
		err = shm_map_fd(&v, s.fd, REGION + 1, 0);
		check(err == EINVAL && strstr(v.error, "expected") != NULL,
		    "wrong size refused with a message");
		printf("size mismatch says: %s\n", v.error);
		check(fcntl(s.fd, F_GETFD) >= 0, "fd left open after a refusal");
		shm_close(&s);
	}
	err = shm_map_fd(&v, 0, 0, 0);  /* stdin: not a region */
	check(err != 0, "non-region fd refused");
	check(count_dir("/proc/self/fd", NULL) == fds0, "no fd leaked by errors");
}

/* The exec'd side: map the inherited fd, check the parent's bytes, answer. */
static int
exec_child(int fd, size_t size)
{
	struct shm s;
	unsigned char *p;

	if (shm_map_fd(&s, fd, size, 0) != 0) {
		fprintf(stderr, "exec child: %s\n", s.error);
		return 1;
	}
	p = s.base;
	if (p[0] != 0xab || p[size - 1] != 0xcd)
		return 1;
	p[1] = 0x5a;
	shm_close(&s);
	return 0;
}

/* fork + exec this program with the region on EXEC_FD, as the engine will. */
static void
exec_roundtrip(void)
{
	struct shm s;
	char fdarg[16], sizearg[32];
	pid_t pid;
	int st, fl;

	if (shm_create(&s, REGION, 0) != 0) {
		check(0, "create for exec");
		return;
	}
	((unsigned char *)s.base)[0] = 0xab;
	((unsigned char *)s.base)[REGION - 1] = 0xcd;
	snprintf(fdarg, sizeof fdarg, "%d", EXEC_FD);
	snprintf(sizearg, sizeof sizearg, "%u", REGION);
	pid = fork();
	if (pid == 0) {
		if (shm_fd_for_exec(s.fd, EXEC_FD) != EXEC_FD)
			_exit(3);
		execl("/proc/self/exe", "shm_hygiene_test", "--exec-child", fdarg,
		    sizearg, (char *)NULL);
		_exit(4);
	}
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "exec'd child mapped the inherited fd");
	check(((unsigned char *)s.base)[1] == 0x5a, "exec'd child wrote back");
	fl = fcntl(s.fd, F_GETFD);
	check(fl >= 0 && (fl & FD_CLOEXEC), "parent's fd still close-on-exec");
	check(fcntl(EXEC_FD, F_GETFD) < 0, "no stray fd in the parent");
	printf("fork+exec: child mapped fd %d (%u bytes) and answered: %s\n",
	    EXEC_FD, REGION, ((unsigned char *)s.base)[1] == 0x5a ? "yes" : "no");
	shm_close(&s);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child(atoi(argv[2]), strtoul(argv[3], NULL, 10));

	unsetenv("FORKSYNTH_SHM");
	rounds("memfd", 0, "memfd");
	rounds("shm_open (flag)", SHM_FORCE_SHM_OPEN, "shm_open");
	setenv("FORKSYNTH_SHM", "shm_open", 1);
	rounds("shm_open (env)", 0, "shm_open");
	unsetenv("FORKSYNTH_SHM");
	errors();
	exec_roundtrip();
	printf("%s\n", failures ? "FAIL" : "PASS");
	return failures ? 1 : 0;
}
