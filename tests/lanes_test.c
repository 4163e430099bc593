/*
 * tests/lanes_test.c — every lane kernel (module_type.process_lanes) writes
 * what process writes, bit for bit, on every path this CPU runs.
 *
 * For each module type with a kernel, on SSE2 and (where the CPU has it)
 * AVX2, groups of 1 to LANES_MAX instances run side by side with a copy of
 * each run alone through process.  The lanes differ in everything a voice
 * can differ in: seed, parameter values (set at the start and changed
 * between blocks, so that smoothers glide; in one case of three the same
 * values in every lane, as a patch's voices have them), input signals (slow sweeps,
 * audio-rate sines, noise, gate patterns, steps, silence), and note events
 * at their own frames.  Block lengths vary from 1 frame to DSP_MAX_BLOCK.
 * Which inputs are connected is the same in every lane, as in the engine
 * (it is the patch module's), and is varied from case to case.  The
 * ladder has cases of its own for its driven path: drive at several
 * values and gliding (across 0 too, so groups mix driven and linear
 * voices), asym biased, res up to self-oscillation, odd block lengths.
 * The vco has cases with sync always connected, at frequencies whose
 * phase lands exactly on its edges and corners.  Any
 * differing bit fails, naming the module, path, case, lane, output and
 * frame.  Each kernel must also have run voices side by side
 * (lanes_vector_frames), not only sent them through process.  A module
 * that declares its outputs bounded (module_type.outputs_bounded) must
 * keep every output finite and within GUARD_BLOWUP_LIMIT.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "guard.h"
#include "module.h"

#define RATE 48000.0f
#define BLOCKS 60

/* A small deterministic generator (xorshift32), per test case. */
static uint32_t
next_u32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static float
uniform(uint32_t *s)
{
	return (float)(next_u32(s) >> 8) * (1.0f / 16777216.0f);
}

static void *
state_new(const struct module_type *t)
{
	size_t size = (module_state_size(t, RATE) + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, size);
	if (p == NULL) {
		perror("lanes_test");
		exit(2);
	}
	memset(p, 0, size);
	return p;
}

/* A random value for parameter `p`: anywhere in its range, or, one time in
 * four, one of its ends or its default. */
static float
param_value(const struct param_desc *p, uint32_t *rng)
{
	if (p->kind == PARAM_TEXT)
		return p->def;
	float v;
	switch (next_u32(rng) % 8) {
	case 0:
		v = p->min;
		break;
	case 1:
		v = p->max;
		break;
	default:
		v = p->min + (p->max - p->min) * uniform(rng);
		break;
	}
	return param_clamp(p, v);
}

/* Fill one lane's input k for a block: a kind of signal per (lane, input)
 * chosen by `kind`, continuing at frame `pos`. */
static void
signal_fill(float *buf, unsigned n, unsigned kind, unsigned pos, uint32_t *rng,
    unsigned lane)
{
	for (unsigned i = 0; i < n; i++) {
		float t = (float)(pos + i);
		float x;
		switch (kind % 7) {
		case 0:  /* slow sweep, bipolar (pitch in octaves, cv) */
			x = 1.5f * sinf(0.0007f * t + (float)lane);
			break;
		case 1:  /* audio rate */
			x = sinf((0.03f + 0.011f * (float)lane) * t);
			break;
		case 2:  /* noise */
			x = 2.0f * uniform(rng) - 1.0f;
			break;
		case 3:  /* a gate: high and low in stretches */
			x = ((pos + i) / (300 + 97 * lane)) % 2 ? 1.0f : 0.0f;
			break;
		case 4:  /* steps */
			x = (float)(((pos + i) / 777) % 5) * 0.4f - 0.8f;
			break;
		case 5:  /* silence */
			x = 0.0f;
			break;
		default: /* unipolar slow cv */
			x = 0.5f + 0.5f * sinf(0.0003f * t * (float)(lane + 1));
			break;
		}
		buf[i] = x;
	}
}

/*
 * How a case picks its parameter values and block lengths: param_value and
 * any length from 1 to DSP_MAX_BLOCK unless a style says otherwise (the
 * ladder's driven cases aim at the driven path's corners).
 */
struct case_style {
	const char *name;
	float (*param)(const struct module_type *t, unsigned p, uint32_t *rng);
	unsigned (*frames)(uint32_t *rng);
	const char *connect;       /* an input connected in every case, or NULL */
};

/* Any block length, short ones often. */
static unsigned
frames_any(uint32_t *rng)
{
	unsigned r = next_u32(rng) % 16;
	return r == 0 ? 1 : r == 1 ? DSP_MAX_BLOCK :
	    r < 4 ? 1 + next_u32(rng) % 17 : 1 + next_u32(rng) % 512;
}

static float
param_any(const struct module_type *t, unsigned p, uint32_t *rng)
{
	return param_value(&t->params[p], rng);
}

static const struct case_style style_any = { "", param_any, frames_any,
    NULL };

/* A ladder parameter for the driven cases: drive mostly above 0 (several
 * values; 0 one time in five, so voices of a group mix both paths and
 * drive glides across 0), asym often biased, res up to self-oscillation,
 * cutoff anywhere on a log scale. */
static float
param_driven(const struct module_type *t, unsigned p, uint32_t *rng)
{
	static const float drive[] = { 0.0f, 0.02f, 0.25f, 0.6f, 1.0f };
	static const float res[] = { 0.0f, 0.5f, 0.9f, 0.96f, 1.0f };
	static const float asym[] = { 0.0f, 1.0f, -1.0f, 0.3f };
	const char *name = t->params[p].name;
	unsigned r = next_u32(rng);

	if (strcmp(name, "drive") == 0)
		return r % 6 < 5 ? drive[r % 5] : uniform(rng);
	if (strcmp(name, "res") == 0)
		return r % 6 < 5 ? res[r % 5] : uniform(rng);
	if (strcmp(name, "asym") == 0)
		return r % 5 < 4 ? asym[r % 4] : 2.0f * uniform(rng) - 1.0f;
	if (strcmp(name, "cutoff") == 0)
		return 20.0f * powf(1000.0f, uniform(rng));
	return param_value(&t->params[p], rng);
}

/* Odd block lengths, 1 to DSP_MAX_BLOCK - 1: chunks and tiles end short. */
static unsigned
frames_odd(uint32_t *rng)
{
	return 1 + 2 * (next_u32(rng) % (DSP_MAX_BLOCK / 2));
}

static const struct case_style style_driven = { "driven ", param_driven,
    frames_odd, NULL };

/* A vco parameter for the synced cases: often a frequency whose increment
 * divides 2^32 (375 Hz at 48 kHz is 2^25 a sample), with no detune, so
 * that the phase lands exactly on an edge or a corner, the breakpoint
 * test's boundary; a pulse width of exactly a half, too. */
static float
param_synced(const struct module_type *t, unsigned p, uint32_t *rng)
{
	static const float freq[] = { 375.0f, 750.0f, 93.75f, 3000.0f };
	const char *name = t->params[p].name;
	unsigned r = next_u32(rng);

	if (strcmp(name, "freq") == 0)
		return r % 3 < 2 ? freq[r % 4] : param_value(&t->params[p], rng);
	if (strcmp(name, "detune") == 0)
		return r % 4 < 3 ? 0.0f : param_value(&t->params[p], rng);
	if (strcmp(name, "pw") == 0)
		return r % 2 ? 0.5f : param_value(&t->params[p], rng);
	return param_value(&t->params[p], rng);
}

static const struct case_style style_synced = { "synced ", param_synced,
    frames_any, "sync" };

struct lane_bufs {
	float in[MODULE_MAX_PORTS][DSP_MAX_BLOCK];
	float out_lanes[MODULE_MAX_PORTS][DSP_MAX_BLOCK];
	float out_alone[MODULE_MAX_PORTS][DSP_MAX_BLOCK];
};

/* One case: `lanes` instances of `t`, on `path`, in `style`; returns the
 * differing samples found (0: bit-identical). */
static unsigned
run_case(const struct module_type *t, unsigned path, unsigned lanes,
    uint32_t seed, unsigned case_no, const struct case_style *style)
{
	static struct lane_bufs buf[LANES_MAX];
	void *grouped[LANES_MAX], *alone[LANES_MAX];
	const float *in_ptr[LANES_MAX][MODULE_MAX_PORTS];
	float *out_lanes[LANES_MAX][MODULE_MAX_PORTS];
	float *out_alone[LANES_MAX][MODULE_MAX_PORTS];
	const float *const *in_rows[LANES_MAX];
	float *const *out_rows[LANES_MAX];
	unsigned kind[LANES_MAX][MODULE_MAX_PORTS];
	uint32_t rng = seed, sig_rng[LANES_MAX];
	size_t size = module_state_size(t, RATE);

	/* connected inputs: the same in every lane */
	unsigned connected = next_u32(&rng);
	if (case_no == 0)
		connected = ~0u;
	else if (case_no == 1)
		connected = 0;
	for (unsigned k = 0; k < t->n_inputs && style->connect != NULL; k++)
		if (strcmp(t->inputs[k].name, style->connect) == 0)
			connected |= 1u << k;
	/* one case in three is a patch's voices: every lane the same
	 * parameter values (the patch module's), differing by their signals
	 * and notes only; the others differ in everything */
	int same_params = case_no % 3 == 2;
	float shared[MODULE_MAX_PARAMS];
	unsigned char set_shared[MODULE_MAX_PARAMS];
	for (unsigned p = 0; p < t->n_params; p++) {
		set_shared[p] = next_u32(&rng) % 3 != 0;
		shared[p] = style->param(t, p, &rng);
	}
	for (unsigned l = 0; l < lanes; l++) {
		grouped[l] = state_new(t);
		alone[l] = state_new(t);
		t->init(grouped[l], RATE, seed + 7919u * l);
		for (unsigned p = 0; p < t->n_params; p++) {
			if (same_params) {
				if (set_shared[p])
					t->set_param(grouped[l], p, shared[p]);
				continue;
			}
			if (next_u32(&rng) % 3 == 0)
				continue;  /* some parameters keep their default */
			float v = style->param(t, p, &rng);
			t->set_param(grouped[l], p, v);
		}
		memcpy(alone[l], grouped[l], size);
		sig_rng[l] = seed ^ (0x9e3779b9u * (l + 1));
		for (unsigned k = 0; k < t->n_inputs; k++) {
			kind[l][k] = next_u32(&rng);
			in_ptr[l][k] = (connected >> k) & 1 ? buf[l].in[k] : NULL;
		}
		for (unsigned o = 0; o < t->n_outputs; o++) {
			out_lanes[l][o] = buf[l].out_lanes[o];
			out_alone[l][o] = buf[l].out_alone[o];
		}
		in_rows[l] = in_ptr[l];
		out_rows[l] = out_lanes[l];
	}

	unsigned diffs = 0, pos = 0;
	for (unsigned b = 0; b < BLOCKS && diffs == 0; b++) {
		unsigned n = style->frames(&rng);
		if (same_params && t->n_params > 0 && next_u32(&rng) % 4 == 0) {
			/* a change to the patch module: every lane */
			unsigned p = next_u32(&rng) % t->n_params;
			float v = style->param(t, p, &rng);
			for (unsigned l = 0; l < lanes; l++) {
				t->set_param(grouped[l], p, v);
				t->set_param(alone[l], p, v);
			}
		}
		for (unsigned l = 0; l < lanes; l++) {
			/* parameter changes between blocks, in some lanes */
			if (t->n_params > 0 && !same_params && next_u32(&rng) % 4 == 0) {
				unsigned p = next_u32(&rng) % t->n_params;
				float v = style->param(t, p, &rng);
				t->set_param(grouped[l], p, v);
				t->set_param(alone[l], p, v);
			}
			/* note events at the lane's own frames */
			if (t->event != NULL && next_u32(&rng) % 3 == 0) {
				struct note_event ev = {
					.frame = next_u32(&rng) % n,
					.kind = (uint8_t)(next_u32(&rng) % 5),
					.note = (uint8_t)(24 + next_u32(&rng) % 80),
					.velocity = (uint8_t)(1 + next_u32(&rng) % 127),
					.channel = NOTE_CHANNEL_ANY,
					.amount = 2.0f * uniform(&rng) - 1.0f,
				};
				t->event(grouped[l], &ev);
				t->event(alone[l], &ev);
			}
			for (unsigned k = 0; k < t->n_inputs; k++)
				signal_fill(buf[l].in[k], n, kind[l][k], pos,
				    &sig_rng[l], l);
		}
		t->process_lanes(grouped, in_rows, out_rows, lanes, n, path);
		for (unsigned l = 0; l < lanes; l++)
			t->process(alone[l], in_ptr[l], out_alone[l], n);
		/* a module that says its outputs are bounded is not scanned
		 * for a blow-up by the engine: hold it to its word */
		for (unsigned l = 0; l < lanes && t->outputs_bounded; l++)
			for (unsigned o = 0; o < t->n_outputs; o++)
				for (unsigned i = 0; i < n; i++) {
					float y = out_alone[l][o][i];
					if (!(fabsf(y) <= GUARD_BLOWUP_LIMIT) &&
					    diffs++ == 0)
						printf("  %s, case %u: output %s frame "
						    "%u is %g, beyond the bound it "
						    "declares\n", t->name, case_no,
						    t->outputs[o].name, pos + i,
						    (double)y);
				}
		for (unsigned l = 0; l < lanes && diffs == 0; l++)
			for (unsigned o = 0; o < t->n_outputs; o++)
				for (unsigned i = 0; i < n; i++)
					if (memcmp(&out_lanes[l][o][i], &out_alone[l][o][i],
					    sizeof(float)) != 0) {
						if (diffs++ == 0)
							printf("  %s, %s, %scase %u (%u lanes): "
							    "lane %u output %s frame %u: %.9g "
							    "grouped, %.9g alone\n", t->name,
							    lanes_path_name(path), style->name,
							    case_no,
							    lanes, l, t->outputs[o].name,
							    pos + i,
							    (double)out_lanes[l][o][i],
							    (double)out_alone[l][o][i]);
					}
		pos += n;
	}
	for (unsigned l = 0; l < lanes; l++) {
		free(grouped[l]);
		free(alone[l]);
	}
	return diffs;
}

int
main(void)
{
	static const unsigned paths[] = { LANES_SSE2, LANES_AVX2 };
	static const unsigned lane_counts[] = { 1, 2, 3, 4, 5, 7, 8 };
	unsigned kernels = 0;

	for (unsigned p = 0; p < sizeof paths / sizeof paths[0]; p++) {
		if (!lanes_supported(paths[p])) {
			printf("%s: this CPU does not run it; that path is not "
			    "checked here\n", lanes_path_name(paths[p]));
			continue;
		}
		for (unsigned m = 0; module_table[m] != NULL; m++) {
			const struct module_type *t = module_table[m];
			if (t->process_lanes == NULL)
				continue;
			kernels += p == 0;
			unsigned cases = 0, failed = 0;
			lanes_vector_frames = 0;
			for (unsigned c = 0; c < 60; c++) {
				unsigned lanes = lane_counts[c % 7];
				cases++;
				failed += run_case(t, paths[p], lanes,
				    0x1234567u + 7777u * c + 31u * m, c,
				    &style_any) != 0;
			}
			CHECK(failed == 0, "%s on %s: %u of %u cases differ from "
			    "process", t->name, lanes_path_name(paths[p]),
			    failed, cases);
			if (failed == 0)
				printf("ok: %s on %s: %u cases of 1 to %u lanes, "
				    "bit-identical to process; %llu lane-frames "
				    "side by side\n", t->name,
				    lanes_path_name(paths[p]), cases, LANES_MAX,
				    lanes_vector_frames);
			/* bit-identity alone passes a kernel that sends every
			 * voice through process: each must run some side by
			 * side, except where its module says process is faster */
			if (strcmp(t->name, "adsr") == 0 && paths[p] == LANES_SSE2)
				CHECK(lanes_vector_frames == 0, "adsr on sse2 runs "
				    "through process (dsp/adsr.c: measured faster)");
			else
				CHECK(lanes_vector_frames > 0, "%s on %s: its "
				    "kernel ran no voices side by side", t->name,
				    lanes_path_name(paths[p]));
		}
		/* the ladder's driven path (drive > 0: oversampled, a
		 * saturator per stage), 1 to 8 lanes each count alike */
		const struct module_type *ladder = module_find("ladder");
		unsigned failed = 0, cases = 48;
		for (unsigned c = 0; c < cases; c++)
			failed += run_case(ladder, paths[p], 1 + c % LANES_MAX,
			    0x7654321u + 4243u * c, c, &style_driven) != 0;
		CHECK(failed == 0, "ladder, driven, on %s: %u of %u cases differ "
		    "from process", lanes_path_name(paths[p]), failed, cases);
		if (failed == 0)
			printf("ok: ladder, driven, on %s: %u cases of 1 to %u "
			    "lanes, bit-identical to process\n",
			    lanes_path_name(paths[p]), cases, LANES_MAX);

		/* the vco's synced path (sync connected: a ring of pending
		 * samples per voice, band-limited resets and edges) */
		const struct module_type *vco = module_find("vco");
		failed = 0;
		lanes_vector_frames = 0;
		for (unsigned c = 0; c < cases; c++)
			failed += run_case(vco, paths[p], 1 + c % LANES_MAX,
			    0x2468aceu + 3571u * c, c, &style_synced) != 0;
		CHECK(failed == 0, "vco, synced, on %s: %u of %u cases differ "
		    "from process", lanes_path_name(paths[p]), failed, cases);
		CHECK(lanes_vector_frames > 0, "vco, synced, on %s: no voices "
		    "ran side by side", lanes_path_name(paths[p]));
		if (failed == 0)
			printf("ok: vco, synced, on %s: %u cases of 1 to %u "
			    "lanes, bit-identical to process; %llu lane-frames "
			    "side by side\n", lanes_path_name(paths[p]), cases,
			    LANES_MAX, lanes_vector_frames);
	}
	printf("%u module type(s) with a lane kernel\n", kernels);
	if (getenv("FORKSYNTH_SIMD") == NULL)
		CHECK(lanes_path() != LANES_SCALAR || !lanes_supported(LANES_SSE2),
		    "the default path is scalar on a CPU with SSE2");
	return check_verdict();
}
