/*
 * dsp/lanes.c — which path voice groups take (dsp/lanes.h): what the CPU
 * runs, what FORKSYNTH_SIMD asks for, what a test forces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"

_Thread_local unsigned long long lanes_vector_frames;

/* 0: not decided yet. */
static enum lanes_path chosen;

int
lanes_supported(enum lanes_path path)
{
	switch (path) {
	case LANES_SCALAR:
		return 1;
#if defined(__x86_64__)
	case LANES_SSE2:
		return 1;
	case LANES_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
#endif
	default:
		return 0;
	}
}

static enum lanes_path
widest(void)
{
	if (lanes_supported(LANES_AVX2))
		return LANES_AVX2;
	if (lanes_supported(LANES_SSE2))
		return LANES_SSE2;
	return LANES_SCALAR;
}

const char *
lanes_path_name(enum lanes_path path)
{
	switch (path) {
	case LANES_SSE2:
		return "sse2";
	case LANES_AVX2:
		return "avx2";
	default:
		return "scalar";
	}
}

enum lanes_path
lanes_path(void)
{
	if (chosen != 0)
		return chosen;
	enum lanes_path path = widest();
	const char *want = getenv("FORKSYNTH_SIMD");
	if (want != NULL && *want != '\0') {
		enum lanes_path asked = strcmp(want, "scalar") == 0 ? LANES_SCALAR :
		    strcmp(want, "sse2") == 0 ? LANES_SSE2 :
		    strcmp(want, "avx2") == 0 ? LANES_AVX2 : 0;
		if (asked == 0)
			fprintf(stderr, "forksynth: FORKSYNTH_SIMD=%s is not a path "
			    "(scalar, sse2 or avx2); taking %s\n", want,
			    lanes_path_name(path));
		else if (!lanes_supported(asked))
			fprintf(stderr, "forksynth: FORKSYNTH_SIMD=%s: this CPU "
			    "does not run it; taking %s\n", want,
			    lanes_path_name(path));
		else
			path = asked;
	}
	chosen = path;
	return chosen;
}

int
lanes_force(enum lanes_path path)
{
	if (!lanes_supported(path))
		return -1;
	chosen = path;
	return 0;
}
