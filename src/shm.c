/*
 * src/shm.c — create, map, lock, prefault and tear down the shared region.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* mlock failure is reported once per process, not once per region. */
static atomic_int shm_mlock_warned;

/* Record a message in s->error and return err. */
static int __attribute__((format(printf, 3, 4)))
shm_fail(struct shm *s, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	n = strlen(s->error);
	snprintf(s->error + n, sizeof s->error - n, ": %s", strerror(err));
	return err;
}

/* System page size in bytes. */
static size_t
shm_page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

/* Open an anonymous memfd; returns fd or -errno. */
static int
shm_open_memfd(void)
{
	int fd;

	fd = memfd_create("forksynth",
	    MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)  /* kernel before 6.3 */
		fd = memfd_create("forksynth", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("forksynth", MFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Open a POSIX shm object under an unguessable name and unlink it at once. */
static int
shm_open_posix(void)
{
	unsigned char rnd[16];
	char name[64];
	int fd, i, k, n;

	for (k = 0; k < 16; k++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -(errno ? errno : EIO);
		n = snprintf(name, sizeof name, "/forksynth-%ld-", (long)getpid());
		for (i = 0; i < (int)sizeof rnd; i++)
			n += snprintf(name + n, sizeof name - (size_t)n, "%02x", rnd[i]);
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			shm_unlink(name);
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* mlock the mapping, warning once per process when the limit forbids it. */
static void
shm_lock(struct shm *s, unsigned flags)
{
	if (flags & SHM_NO_MLOCK)
		return;
	if (mlock(s->base, s->size) == 0) {
		s->locked = 1;
		return;
	}
	if (atomic_exchange(&shm_mlock_warned, 1) == 0)
		warn("cannot lock %zu bytes of shared memory (%s); "
		    "raise RLIMIT_MEMLOCK (ulimit -l) to avoid page faults "
		    "in the audio path", s->size, strerror(errno));
}

/* Map s->fd for s->size bytes, read-write, shared. */
static int
shm_mmap(struct shm *s)
{
	void *p;

	p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		return shm_fail(s, errno, "cannot map %zu bytes of shared memory",
		    s->size);
	s->base = p;
	return 0;
}

int
shm_create(struct shm *s, size_t size, unsigned flags)
{
	const char *env;
	int fd = -ENOSYS, err;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (size == 0)
		return shm_fail(s, EINVAL, "shared region of 0 bytes");
	env = getenv("FORKSYNTH_SHM");
	if (env != NULL && strcmp(env, "shm_open") == 0)
		flags |= SHM_FORCE_SHM_OPEN;

	if (!(flags & SHM_FORCE_SHM_OPEN)) {
		fd = shm_open_memfd();
		s->backend = "memfd";
	}
	if (fd < 0) {
		fd = shm_open_posix();
		s->backend = "shm_open";
	}
	if (fd < 0)
		return shm_fail(s, -fd, "cannot create shared memory (%s)",
		    s->backend);
	s->fd = fd;
	s->size = size;

	if (ftruncate(fd, (off_t)size) != 0) {
		err = shm_fail(s, errno, "cannot size shared memory to %zu bytes",
		    size);
		goto fail;
	}
	/* Neither process may resize it later: that would SIGBUS the other. */
	if (strcmp(s->backend, "memfd") == 0)
		(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	if ((err = shm_mmap(s)) != 0)
		goto fail;
	shm_lock(s, flags);
	/* Prefault: write every page now, not in the first audio cycle. */
	memset(s->base, 0, size);
	return 0;
fail:
	close(fd);
	s->fd = -1;
	s->size = 0;
	return err;
}

int
shm_map_fd(struct shm *s, int fd, size_t size, unsigned flags)
{
	struct stat st;
	volatile const unsigned char *p;
	size_t off, page;
	int err;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->backend = "inherited";
	if (fstat(fd, &st) != 0)
		return shm_fail(s, errno, "shared memory fd %d", fd);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return shm_fail(s, EINVAL,
		    "fd %d is not a shared memory region (%lld bytes)", fd,
		    (long long)st.st_size);
	if (size != 0 && (size_t)st.st_size != size)
		return shm_fail(s, EINVAL,
		    "shared memory fd %d holds %lld bytes, expected %zu", fd,
		    (long long)st.st_size, size);
	s->fd = fd;
	s->size = (size_t)st.st_size;
	if ((err = shm_mmap(s)) != 0) {
		s->fd = -1;
		return err;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	shm_lock(s, flags);
	/* Prefault without touching the contents the parent already wrote. */
	if (madvise(s->base, s->size, MADV_POPULATE_WRITE) != 0) {
		page = shm_page_size();
		p = s->base;
		for (off = 0; off < s->size; off += page)
			(void)p[off];
	}
	return 0;
}

void
shm_close(struct shm *s)
{
	if (s->base != NULL && s->size != 0)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->base = NULL;
	s->size = 0;
	s->fd = -1;
	s->locked = 0;
}

int
shm_fd_for_exec(int fd, int target)
{
	int fl;

	if (target < 0 || target == fd) {
		fl = fcntl(fd, F_GETFD);
		if (fl < 0 || fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
			return -errno;
		return fd;
	}
	if (dup2(fd, target) < 0)
		return -errno;
	return target;
}
