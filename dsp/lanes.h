/*
 * dsp/lanes.h — voices side by side: the vector types, and the run-time
 * choice of path, for modules that process the same patch module in several
 * voices at once (module_type.process_lanes).
 *
 * A voice's recursive DSP (an oscillator's phase, a filter's state) runs
 * one sample after the other, so one voice cannot fill a vector register;
 * four or eight voices of the same module can: lane l of every vector is
 * voice l of the group.  A lane kernel writes exactly what process writes
 * for each lane, bit for bit: the same IEEE operations in the same order
 * (GCC's vector extensions compute each lane as the scalar code would, and
 * the build never contracts a*b+c into an FMA, -ffp-contract=off), the
 * same approximations instead of libm's exp2 or tan.  So whether voices are
 * grouped, by how many, and on which path never changes a sample;
 * tests/lanes_test.c holds every kernel to that on every path this CPU
 * runs.
 *
 * Paths: LANES_SSE2 (4 floats a vector, every x86-64 CPU), LANES_AVX2 (8,
 * where the CPU has AVX2; the kernel compiled a second time with
 * __attribute__((target("avx2")))), and LANES_SCALAR (the engine calls
 * process per voice: other architectures, or FORKSYNTH_SIMD=scalar).
 *
 * A kernel is written once over the vector type and instantiated per path
 * by including its body twice, or as an always_inline function called from
 * a plain and a target("avx2") wrapper.
 */
#ifndef FORKSYNTH_DSP_LANES_H
#define FORKSYNTH_DSP_LANES_H

#include <stdint.h>

/* Voices in one group at most: one AVX2 register of floats. */
#define LANES_MAX 8

/* A path: its number is the floats in one vector (1: per voice). */
enum lanes_path {
	LANES_SCALAR = 1,
	LANES_SSE2 = 4,
	LANES_AVX2 = 8
};

typedef float lanes_v4 __attribute__((vector_size(16)));
typedef int32_t lanes_v4i __attribute__((vector_size(16)));
typedef float lanes_v8 __attribute__((vector_size(32)));
typedef int32_t lanes_v8i __attribute__((vector_size(32)));

/* The path the engine takes: the widest this CPU runs, or the one the
 * environment variable FORKSYNTH_SIMD names (scalar, sse2, avx2; a path
 * the CPU lacks falls back to the widest it has, with a warning on stderr
 * the first time).  Read once, then cached; lanes_force overrides it. */
enum lanes_path lanes_path(void);

/* Whether this CPU runs `path`. */
int lanes_supported(enum lanes_path path);

/* Take `path` from now on (tests, the bench); a path the CPU lacks is
 * refused: returns -1 and changes nothing.  Not real-time safe against a
 * running engine: set it before graphs run. */
int lanes_force(enum lanes_path path);

/* The name of a path: "scalar", "sse2", "avx2". */
const char *lanes_path_name(enum lanes_path path);

#endif
