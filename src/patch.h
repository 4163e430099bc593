/*
 * src/patch.h — the authoritative patch: module instances with their
 * parameter values, the connections between their ports, and the polyphony.
 *
 * A patch is a plain value (fixed arrays, no pointers but to the static
 * module tables), so a command can be tried on a copy and committed by
 * assignment: a command applies whole or not at all.
 */
#ifndef FORKSYNTH_PATCH_H
#define FORKSYNTH_PATCH_H

#include <stdio.h>

#include "module.h"

#define PATCH_MAX_MODULES 128
#define PATCH_MAX_CONNECTIONS 512
#define PATCH_NAME_MAX 32          /* bytes, with the terminating NUL */
#define PATCH_MAX_POLY 4096
#define PATCH_MAX_IO 32            /* JACK-side audio ports each way */
#define PARAM_TEXT_MAX 256         /* a text parameter (file name), with NUL */
/* The patch's own tempo (`tempo BPM`): what tempo-synced modules follow
 * while JACK transport stands, and in offline renders. */
#define PATCH_TEMPO_DEFAULT 120.0f
#define PATCH_TEMPO_MIN 20.0f
#define PATCH_TEMPO_MAX 999.0f

/* Pseudo-module indices for the engine's own ports: `in.N` and `out.N`. */
#define PATCH_IO_IN  (-1)          /* outputs in.1 .. in.n_inputs */
#define PATCH_IO_OUT (-2)          /* inputs out.1 .. out.n_outputs */

enum scope {
	SCOPE_VOICE = 0,    /* one instance per voice */
	SCOPE_GLOBAL        /* one instance */
};

struct patch_module {
	char name[PATCH_NAME_MAX];
	const struct module_type *type;
	enum scope scope;
	float params[MODULE_MAX_PARAMS];   /* current values, clamped */
	char text[PARAM_TEXT_MAX];         /* the PARAM_TEXT parameter, or "" */
};

/* One end of a connection: a module index (or PATCH_IO_*) and a port index
 * (for PATCH_IO_* the port is the 0-based channel). */
struct patch_port {
	int module;
	int port;
};

/* Signal flows from an output port to an input port. */
struct patch_connection {
	struct patch_port from;
	struct patch_port to;
};

/* What a controller mapping listens to (src/midimap.h). */
enum map_source {
	MAP_CC = 0,          /* a 7-bit controller, number 0..127 */
	MAP_CC14,            /* a 14-bit pair: MSB number 0..31, LSB number+32 */
	MAP_BEND,            /* the pitch bend wheel */
	MAP_PRESSURE,        /* channel aftertouch */
	MAP_POLY_PRESSURE,   /* polyphonic aftertouch: the voice of the note */
	MAP_VELOCITY         /* note-on velocity: the voice it starts */
};

#define PATCH_MAX_MAPS 128

/* One controller mapped onto one parameter: the controller's range runs
 * the parameter from lo to hi, exponentially when `curve_exp`. */
struct patch_map {
	unsigned char source;              /* enum map_source */
	unsigned char number;              /* MAP_CC, MAP_CC14: controller */
	unsigned char channel;             /* 0: any, else MIDI channel 1..16 */
	unsigned char curve_exp;           /* 1: exponential, 0: linear */
	int module;                        /* patch module index */
	unsigned param;                    /* its parameter */
	float lo, hi;                      /* values at the controller's ends */
};

struct patch {
	unsigned poly;                     /* voices, 1..PATCH_MAX_POLY */
	int mono;                          /* one voice, last-note priority, legato */
	float tempo;                       /* BPM (quarter notes per minute) */
	unsigned n_inputs, n_outputs;      /* in.N and out.N channels */
	unsigned n_modules;
	struct patch_module modules[PATCH_MAX_MODULES];
	unsigned n_connections;
	struct patch_connection connections[PATCH_MAX_CONNECTIONS];
	unsigned channel;                  /* MIDI channel 1..16 heard; 0: omni */
	unsigned n_maps;
	struct patch_map maps[PATCH_MAX_MAPS];
};

/* An error in a command: where, and what was expected. */
struct patch_error {
	char file[128];        /* "" for the prompt or stdin */
	unsigned line;         /* 1-based; 0 when not from a file */
	unsigned column;       /* 1-based byte column of the offending token */
	char message[256];
};

/* An empty patch with 1 voice and the given channel counts. */
void patch_init(struct patch *p, unsigned n_inputs, unsigned n_outputs);

/* Index of the module called `name`, or -1. */
int patch_find_module(const struct patch *p, const char *name);

/*
 * Run one line of the command language on `p` (comments and blank lines are
 * fine).  On error `p` is untouched and `err` says where and why.  `line` is
 * stored in err->line.  Returns 0 on success, -1 on error.
 */
int patch_exec_line(struct patch *p, const char *text, unsigned line,
    struct patch_error *err);

/*
 * Load a whole patch from text into `p`, replacing it: all or nothing.  The
 * text starts from an empty patch with p's channel counts.  `file` names the
 * source in messages.  Returns 0, or -1 with `p` untouched.
 */
int patch_load_text(struct patch *p, const char *text, const char *file,
    struct patch_error *err);

/* The same from a file; an unreadable file is an error that names it. */
int patch_load_file(struct patch *p, const char *path, struct patch_error *err);

/*
 * Write commands that rebuild `p` exactly: poly, tempo (when not the
 * default), modules with every
 * parameter that differs from its default, then connections.  Loading the
 * output and saving again gives the same text.  Returns 0 or -1 (errno).
 */
int patch_save(const struct patch *p, FILE *out);

/* Whether two patches hold the same modules, parameters, connections,
 * polyphony and channel counts (ignoring unused array slots). */
int patch_equal(const struct patch *a, const struct patch *b);

/* Format an error as "file:line:column: message" (parts left out when
 * unknown) into buf. */
void patch_error_format(const struct patch_error *err, char *buf, size_t size);

/* Format a tempo (BPM) as `tempo` commands spell it into buf. */
void patch_format_tempo(float bpm, char *buf, size_t size);

/* Format a port as text ("osc1.out", "out.2") into buf. */
void patch_port_name(const struct patch *p, struct patch_port port, int output,
    char *buf, size_t size);

#endif
