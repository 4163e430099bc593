/*
 * src/log.h — the control plane's error handling: die loudly on impossible
 * states and out-of-memory, warn otherwise.  Never used on the real-time path.
 */
#ifndef FORKSYNTH_LOG_H
#define FORKSYNTH_LOG_H

#include <stddef.h>
#include <sys/types.h>

/* Print "forksynth: message" to stderr and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Print "forksynth: warning: message" to stderr. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "forksynth: message" to stderr. */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
/* Aligned, zeroed memory (64 bytes: a cache line); free with free(). */
void *xaligned(size_t size);

/* What a file's type (st_mode) is, for messages: "a directory",
 * "a FIFO", ... */
const char *file_kind_name(mode_t mode);

#endif
