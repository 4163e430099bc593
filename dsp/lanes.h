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
#include <string.h>

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

/* Lane-frames run in vectors by the lane kernels on this thread so far.
 * A kernel that quietly sent every voice through process would still be
 * bit-identical to it; tests/lanes_test.c reads this count to see that each
 * kernel really runs voices side by side.  A thread-local add per call. */
extern _Thread_local unsigned long long lanes_vector_frames;

/* Count `lanes` voices of `frames` frames as run side by side. */
static inline void
lanes_count(unsigned lanes, unsigned frames)
{
	lanes_vector_frames += (unsigned long long)lanes * frames;
}

/* A function of a kernel's 8-wide (AVX2) instantiation, inlined into it. */
#if defined(__x86_64__)
#define LANES_AVX2_FN __attribute__((target("avx2"), always_inline))
#else
#define LANES_AVX2_FN __attribute__((always_inline))
#endif

/*
 * Signals of a lane kernel (module.h, process_lanes) in tiles: a tile holds
 * W frames of W voices side by side, tile[t][l] being frame t of lane l.
 * tile_write transposes one so that lane l's W frames go to y[l][at ..
 * at + W) for the lanes l < n (lanes past n are padding), W vector stores
 * instead of W * W scalar ones; tile_read fills one from x[l][at ..] for
 * all W lanes (give padding lanes a real signal).  They only move bits.
 * The 8-wide ones are compiled for AVX2 on x86-64 (LANES_AVX2_FN), for the
 * kernels' AVX2 functions to inline.
 */

/* out = m transposed, 4 x 4 floats (out may be m). */
static inline void
tile_transpose4(const lanes_v4 m[4], lanes_v4 out[4])
{
	lanes_v4 lo01 = __builtin_shufflevector(m[0], m[1], 0, 4, 1, 5);
	lanes_v4 hi01 = __builtin_shufflevector(m[0], m[1], 2, 6, 3, 7);
	lanes_v4 lo23 = __builtin_shufflevector(m[2], m[3], 0, 4, 1, 5);
	lanes_v4 hi23 = __builtin_shufflevector(m[2], m[3], 2, 6, 3, 7);

	out[0] = __builtin_shufflevector(lo01, lo23, 0, 1, 4, 5);
	out[1] = __builtin_shufflevector(lo01, lo23, 2, 3, 6, 7);
	out[2] = __builtin_shufflevector(hi01, hi23, 0, 1, 4, 5);
	out[3] = __builtin_shufflevector(hi01, hi23, 2, 3, 6, 7);
}

/* out = m transposed, 8 x 8 floats (AVX2; out may be m): pairs of rows
 * interleaved, then pairs of pairs, then the 128-bit halves exchanged. */
LANES_AVX2_FN static inline void
tile_transpose8(const lanes_v8 m[8], lanes_v8 out[8])
{
	lanes_v8 pair[8], quad[8];

	_Pragma("GCC unroll 8")
	for (unsigned t = 0; t < 8; t += 2) {
		pair[t] = __builtin_shufflevector(m[t], m[t + 1],
		    0, 8, 1, 9, 4, 12, 5, 13);
		pair[t + 1] = __builtin_shufflevector(m[t], m[t + 1],
		    2, 10, 3, 11, 6, 14, 7, 15);
	}
	/* quad[q]: columns q % 4 and q % 4 + 4 of rows q / 4 * 4 .. + 3 */
	_Pragma("GCC unroll 8")
	for (unsigned h = 0; h < 8; h += 4)
		for (unsigned j = 0; j < 2; j++) {
			lanes_v8 lo = pair[h + j], hi = pair[h + j + 2];
			quad[h + 2 * j] = __builtin_shufflevector(lo, hi,
			    0, 1, 8, 9, 4, 5, 12, 13);
			quad[h + 2 * j + 1] = __builtin_shufflevector(lo, hi,
			    2, 3, 10, 11, 6, 7, 14, 15);
		}
	_Pragma("GCC unroll 8")
	for (unsigned q = 0; q < 4; q++) {
		out[q] = __builtin_shufflevector(quad[q], quad[q + 4],
		    0, 1, 2, 3, 8, 9, 10, 11);
		out[q + 4] = __builtin_shufflevector(quad[q], quad[q + 4],
		    4, 5, 6, 7, 12, 13, 14, 15);
	}
}

static inline void
tile_write4(float *const *y, unsigned n, unsigned at, const lanes_v4 tile[4])
{
	lanes_v4 m[4];

	tile_transpose4(tile, m);
	for (unsigned l = 0; l < n; l++)
		memcpy(y[l] + at, &m[l], sizeof m[l]);
}

LANES_AVX2_FN static inline void
tile_write8(float *const *y, unsigned n, unsigned at, const lanes_v8 tile[8])
{
	lanes_v8 m[8];

	tile_transpose8(tile, m);
	for (unsigned l = 0; l < n; l++)
		memcpy(y[l] + at, &m[l], sizeof m[l]);
}

static inline void
tile_read4(const float *const *x, unsigned at, lanes_v4 tile[4])
{
	lanes_v4 m[4];

	for (unsigned l = 0; l < 4; l++)
		memcpy(&m[l], x[l] + at, sizeof m[l]);
	tile_transpose4(m, tile);
}

LANES_AVX2_FN static inline void
tile_read8(const float *const *x, unsigned at, lanes_v8 tile[8])
{
	lanes_v8 m[8];

	_Pragma("GCC unroll 8")
	for (unsigned l = 0; l < 8; l++)
		memcpy(&m[l], x[l] + at, sizeof m[l]);
	tile_transpose8(m, tile);
}

/* The last, short tile of a block: `frames` (< w) frames of a w-lane tile
 * seen as floats, tile[t * w + l], written to or read from the lanes. */
static inline void
tile_write_part(float *const *y, unsigned n, unsigned at, const float *tile,
    unsigned w, unsigned frames)
{
	for (unsigned l = 0; l < n; l++)
		for (unsigned t = 0; t < frames; t++)
			y[l][at + t] = tile[t * w + l];
}

static inline void
tile_read_part(const float *const *x, unsigned at, float *tile, unsigned w,
    unsigned frames)
{
	for (unsigned l = 0; l < w; l++)
		for (unsigned t = 0; t < frames; t++)
			tile[t * w + l] = x[l][at + t];
}

/* Lane by lane |x| (fabsf, on the bits). */
static inline lanes_v4
lanes_abs4(lanes_v4 x)
{
	return (lanes_v4)((lanes_v4i)x & 0x7fffffff);
}

LANES_AVX2_FN static inline lanes_v8
lanes_abs8(lanes_v8 x)
{
	return (lanes_v8)((lanes_v8i)x & 0x7fffffff);
}

/* p[l][i] in lane l, built in registers (filling a vector's lanes one by
 * one in memory would stall its load on the narrow stores). */
static inline lanes_v4
lanes_gather4(const float *const *p, unsigned i)
{
	lanes_v4 r = { p[0][i], p[1][i], p[2][i], p[3][i] };
	return r;
}

LANES_AVX2_FN static inline lanes_v8
lanes_gather8(const float *const *p, unsigned i)
{
	lanes_v8 r = { p[0][i], p[1][i], p[2][i], p[3][i],
	    p[4][i], p[5][i], p[6][i], p[7][i] };
	return r;
}

/* Frames 0..m of `rows` (a vector of every lane's sample per frame) into
 * the first `used` lanes' buffers from dst[l][at]: whole tiles transposed,
 * the rest frame by frame. */
static inline void
lanes_rows_write4(const lanes_v4 *rows, unsigned m, unsigned used,
    float *const *dst, unsigned at)
{
	unsigned j = 0;

	for (; j + 4 <= m; j += 4)
		tile_write4(dst, used, at + j, rows + j);
	for (; j < m; j++)
		for (unsigned l = 0; l < used; l++)
			dst[l][at + j] = rows[j][l];
}

LANES_AVX2_FN static inline void
lanes_rows_write8(const lanes_v8 *rows, unsigned m, unsigned used,
    float *const *dst, unsigned at)
{
	unsigned j = 0;

	for (; j + 8 <= m; j += 8)
		tile_write8(dst, used, at + j, rows + j);
	for (; j < m; j++)
		for (unsigned l = 0; l < used; l++)
			dst[l][at + j] = rows[j][l];
}

/* Whether any lane of `mask` is set, and whether every lane is. */
static inline int
lanes_any4(lanes_v4i mask)
{
	return (mask[0] | mask[1] | mask[2] | mask[3]) != 0;
}

LANES_AVX2_FN static inline int
lanes_any8(lanes_v8i mask)
{
	int r = 0;
	for (unsigned l = 0; l < 8; l++)
		r |= mask[l];
	return r != 0;
}

static inline int
lanes_all4(lanes_v4i mask)
{
	return (mask[0] & mask[1] & mask[2] & mask[3]) != 0;
}

LANES_AVX2_FN static inline int
lanes_all8(lanes_v8i mask)
{
	int r = -1;
	for (unsigned l = 0; l < 8; l++)
		r &= mask[l];
	return r != 0;
}

/* The helper `name` of width w (4 or 8): LANES_FN(abs, 8) is lanes_abs8. */
#define LANES_FN(name, w) LANES_FN_(name, w)
#define LANES_FN_(name, w) lanes_##name##w

#endif
