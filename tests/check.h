/*
 * tests/check.h — CHECK(cond, fmt, ...) for the unit tests that run many
 * small checks: a failing one prints its line and message and is counted;
 * check_verdict() ends main with the count.  Header only: one per test.
 */
#ifndef FORKSYNTH_TESTS_CHECK_H
#define FORKSYNTH_TESTS_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		check_failures++; \
	} \
} while (0)

/* The exit status for main: 0, or 1 after saying how many checks failed. */
static inline int
check_verdict(void)
{
	if (check_failures == 0)
		return 0;
	printf("%d check(s) failed\n", check_failures);
	return 1;
}

#endif
