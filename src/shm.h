/*
 * src/shm.h — the shared-memory region between the parent and the DSP
 * child: created once by the parent (memfd, or an unlinked shm_open object
 * as a fallback), sized, mlocked and prefaulted; re-mapped by the child from
 * the fd it inherits across exec.  Control plane only: these functions make
 * syscalls and may print one warning.  They never exit; errors come back as
 * an errno value with a readable message in s->error.
 */
#ifndef FORKSYNTH_SHM_H
#define FORKSYNTH_SHM_H

#include <stddef.h>

/* Flags for shm_create() and shm_map_fd(). */
#define SHM_FORCE_SHM_OPEN 0x1u /* skip memfd_create (tests; also env FORKSYNTH_SHM=shm_open) */
#define SHM_NO_MLOCK       0x2u /* do not try to mlock the mapping */

/* One process's view of the region.  Addresses differ between processes. */
struct shm {
	void *base;          /* this process's mapping, page aligned */
	size_t size;         /* bytes */
	int fd;              /* the region's fd (FD_CLOEXEC set); -1 if none */
	int locked;          /* 1 if mlock succeeded */
	const char *backend; /* "memfd", "shm_open" or "inherited" */
	char error[256];     /* message for the last failure */
};

/*
 * Create a region of `size` bytes, zeroed, mapped MAP_SHARED, mlocked when
 * RLIMIT_MEMLOCK allows (otherwise one warning per process, and carry on),
 * every page prefaulted.  Returns 0, or an errno value with s->error set
 * and nothing left open.
 */
int shm_create(struct shm *s, size_t size, unsigned flags);

/*
 * Map an inherited region fd (the child side).  size is the expected size
 * in bytes, checked against fstat; 0 accepts whatever the fd holds.  Pages
 * are mlocked (if allowed) and prefaulted without changing their contents.
 * On success s owns fd and sets FD_CLOEXEC on it again; on failure fd is
 * left open and untouched.  Returns 0 or an errno value with s->error set.
 */
int shm_map_fd(struct shm *s, int fd, size_t size, unsigned flags);

/* Unmap and close the region; s can be reused.  Safe on a zeroed struct. */
void shm_close(struct shm *s);

/*
 * Make the region fd survive exec: with target < 0 clear FD_CLOEXEC on fd
 * itself, otherwise dup2 it to `target` (which then lacks FD_CLOEXEC).
 * Returns the fd number the exec'd program will see, or -errno.  Only
 * async-signal-safe calls: meant for the child between fork and exec, so
 * the parent's copy keeps FD_CLOEXEC and leaks into nothing else it spawns.
 */
int shm_fd_for_exec(int fd, int target);

#endif
