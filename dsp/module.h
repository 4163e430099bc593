/*
 * dsp/module.h — the contract every DSP module type fulfils, and the registry
 * that lists them.
 *
 * A module is a plain struct with init, process and a parameter setter.  It
 * knows nothing of JACK, ncurses or shared memory.  The engine owns the
 * memory (state_size bytes, 64-byte aligned, zeroed before init) and calls:
 *
 *   init(self, rate, seed)       once, off the real-time path;
 *   set_param(self, i, value)    between blocks, on the real-time path;
 *   event(self, ev)              between blocks, queues note events (optional);
 *   process(self, in, out, n)    once per block, on the real-time path;
 *   reset(self)                  between blocks, real-time, after the
 *                                module's output blew up (optional);
 *   tempo(self, t)               before each chunk, real-time: where the
 *                                music stands (optional, tempo.h).
 *
 * set_param, event, process and reset never allocate, lock, print or block.
 *
 * Signals are float32 samples.  Conventions shared by all modules:
 *   audio          nominally in [-1, 1];
 *   pitch          octaves relative to the module's base frequency
 *                  (the midi module's pitch output is 0 at A4 = note 69);
 *   gate           > 0.5 is high;
 *   unipolar cv    [0, 1] (envelopes, velocity).
 * An input pointer is NULL when nothing is connected to that input; output
 * pointers are always valid and must be fully written by process.
 */
#ifndef FORKSYNTH_DSP_MODULE_H
#define FORKSYNTH_DSP_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "lanes.h"
#include "tempo.h"

/* The largest block, in frames, that process is ever asked for. */
#define DSP_MAX_BLOCK 2048

/* Upper bounds used to size fixed tables elsewhere. */
#define MODULE_MAX_PORTS 16
#define MODULE_MAX_PARAMS 16

enum param_kind {
	PARAM_REAL = 0,   /* any value in [min, max] */
	PARAM_INT,        /* whole numbers in [min, max] */
	PARAM_CHOICE,     /* index into choices[]; min 0, max count-1 */
	PARAM_TEXT        /* a file name, kept as text by the patch (one per
			     module type at most); its float value is unused */
};

/* One parameter of a module type: drives parsing, the UI and the docs. */
struct param_desc {
	const char *name;
	const char *unit;          /* "Hz", "s", "cents", "oct", "" ... */
	enum param_kind kind;
	float min, max, def;
	const char *help;          /* one line */
	const char *const *choices; /* PARAM_CHOICE: NULL-terminated names */
};

/* One input or output port of a module type. */
struct port_desc {
	const char *name;
	const char *help;          /* one line, with the signal's unit */
};

/* A note event delivered to modules that take them (the midi module). */
enum note_event_kind {
	NOTE_EVENT_ON = 0,    /* note, velocity (1..127) */
	NOTE_EVENT_OFF,       /* note */
	NOTE_EVENT_BEND,      /* amount in [-1, 1] */
	NOTE_EVENT_STEAL,     /* the voice is taken: gate drops for one sample */
	NOTE_EVENT_MOD,       /* mod wheel, amount in [0, 1] */
	/* handled by the engine's voice routing, never sent to modules: */
	NOTE_EVENT_SUSTAIN,   /* sustain pedal: amount >= 0.5 is down */
	NOTE_EVENT_ALL_OFF,   /* release every note (MIDI all notes off) */
	NOTE_EVENT_SOUND_OFF, /* silence at once (MIDI all sound off) */
	/* controllers for the engine's mappings (src/midimap.h), never sent
	 * to modules: */
	NOTE_EVENT_CC,        /* controller `note`, raw value `velocity` 0..127 */
	NOTE_EVENT_PRESSURE,  /* channel aftertouch, amount in [0, 1] */
	NOTE_EVENT_POLY_PRESSURE  /* aftertouch of `note`, amount in [0, 1] */
};

/* The channel of events that come from no MIDI channel (the `note`
 * command, the keyboard piano): they match every channel's mapping. */
#define NOTE_CHANNEL_ANY 0xff

struct note_event {
	uint32_t frame;       /* offset inside the coming block, frames */
	uint8_t kind;         /* enum note_event_kind */
	uint8_t note;         /* MIDI note number 0..127 */
	uint8_t velocity;     /* 1..127 for NOTE_EVENT_ON */
	uint8_t channel;      /* MIDI channel 0..15; NOTE_CHANNEL_ANY: any */
	float amount;         /* NOTE_EVENT_BEND */
};

struct module_type {
	const char *name;
	const char *help;                 /* one line */
	size_t size;                      /* bytes of state at any rate */
	/* Bytes of state at this rate, when it depends on it (delay lines);
	 * NULL means `size`. */
	size_t (*size_for_rate)(float rate);
	const struct port_desc *inputs;
	unsigned n_inputs;
	const struct port_desc *outputs;
	unsigned n_outputs;
	const struct param_desc *params;
	unsigned n_params;

	/* Prepare zeroed memory: parameters at their defaults, silence.
	 * seed makes random modules deterministic per instance. */
	void (*init)(void *self, float rate, uint32_t seed);
	/* Set parameter `index` to `value` (already clamped to its range).
	 * The module smooths it; no zipper noise. */
	void (*set_param)(void *self, unsigned index, float value);
	/* Queue an event for the next process call; NULL if not taken. */
	void (*event)(void *self, const struct note_event *ev);
	/* Produce `frames` (1..DSP_MAX_BLOCK) frames. */
	void (*process)(void *self, const float *const *in, float *const *out,
	    unsigned frames);
	/* Optional: process `lanes` (1..LANES_MAX) instances of this type at
	 * once, the same patch module in consecutive voices (dsp/lanes.h):
	 * self[l], in[l][k], out[l][o] are lane l's state and ports as process
	 * takes them.  Writes exactly what process would for each lane, bit
	 * for bit, on `path` (LANES_SSE2, or LANES_AVX2 where the CPU has it;
	 * never LANES_SCALAR).  NULL: the engine calls process per voice. */
	void (*process_lanes)(void *const *self, const float *const *const *in,
	    float *const *const *out, unsigned lanes, unsigned frames,
	    unsigned path);

	/*
	 * Modules with a PARAM_TEXT parameter (a file, such as an impulse
	 * response) build a resource from it off the real-time path:
	 *   text_check      in the parent, before a command is accepted: can
	 *                   the file be used?  0, or -1 with a message naming it;
	 *   resource_load   in the child's control thread: build it at `rate`
	 *                   (params: the module's current values); NULL + err;
	 *   resource_swap   real-time, between blocks: start using `res` (NULL:
	 *                   none), click-free; returns a resource the module has
	 *                   finished with, for resource_free off the RT path;
	 *   resource_free   off the real-time path;
	 *   resources_drop  off the RT path, when the instance goes away: free
	 *                   every resource it holds.
	 */
	int (*text_check)(const char *text, char *err, size_t err_size);
	void *(*resource_load)(const char *text, float rate, const float *params,
	    char *err, size_t err_size);
	void *(*resource_swap)(void *self, void *res);
	void (*resource_free)(void *res);
	void (*resources_drop)(void *self);
	/* Optional: work that may run on another thread during the block,
	 * concurrently with process (the convolver's long partitions). */
	void (*background)(void *self);
	/* 1 when every output stays finite and within +-1000 (+60 dBFS, the
	 * engine's blow-up limit, src/guard.h) by construction, whatever the
	 * inputs, parameters and events: note values, an envelope in [0, 1].
	 * The engine then does not scan these outputs for a blow-up after
	 * each block (tests/lanes_test checks the bound). */
	int outputs_bounded;
	/* Optional: back to silence after the output went non-finite or beyond
	 * +60 dBFS (src/guard.h), keeping parameters and resources.  Called
	 * between blocks, never beside process or background.  NULL: the
	 * engine copies back the state init leaves and sets the parameters
	 * again, which suits every module whose state holds no resource. */
	void (*reset)(void *self);
	/* Optional: frames by which the module delays its signal with these
	 * parameter values (a limiter's look-ahead); the JACK client adds the
	 * longest such path to each output's reported latency.  NULL: 0. */
	unsigned (*latency)(const float *params, float rate);
	/* Optional: the song position and tempo at the first frame of the
	 * coming process call (dsp/tempo.h), for modules that follow tempo.
	 * Real-time, between blocks.  Until it is first called the module
	 * assumes tempo_default. */
	void (*tempo)(void *self, const struct dsp_tempo *t);
};

/* The index of the PARAM_TEXT parameter of `type`, or -1. */
int module_text_param(const struct module_type *type);

/* The registry: every module type, in one table, NULL-terminated. */
extern const struct module_type *const module_table[];

/* The type called `name`, or NULL. */
const struct module_type *module_find(const char *name);

/* Index of the parameter, input or output called `name`, or -1. */
int module_param_index(const struct module_type *type, const char *name);
int module_input_index(const struct module_type *type, const char *name);
int module_output_index(const struct module_type *type, const char *name);

/* Bytes of state for `type` at `rate`. */
size_t module_state_size(const struct module_type *type, float rate);

/* Clamp (and round, for whole-number kinds) a value into a parameter's range. */
float param_clamp(const struct param_desc *p, float value);

#endif
