/*
 * src/session.h — a live session, whatever drives it: the JACK client, the
 * engine and its DSP child, the recorder, the supervisor thread, the
 * authoritative patch and its autosave.  The headless loop (src/live.c) and
 * the terminal UI (ui/) are two front ends over this.
 */
#ifndef FORKSYNTH_SESSION_H
#define FORKSYNTH_SESSION_H

#include <stddef.h>

#include "jackio.h"
#include "patch.h"

struct live_options {
	struct jack_options jack;
	unsigned threads;           /* DSP threads (0: one per CPU) */
	int hot;                    /* enum engine_hot */
	int no_fork;
	int no_clip;                /* outputs not held within 0 dBFS */
	const char *patch_name;     /* for messages: file or "built-in patch" */
	const char *patch_path;     /* the patch file, or NULL (built-in) */
	const char *patch_text;     /* the text the patch was loaded from, whose
	                               layout saving keeps, or NULL */
	const char *record_path;    /* record from the first period, or NULL */
	const char *record_dir;     /* where `record` without a name writes */
	const char *record_format;  /* audiofile.h's format name, or NULL */
	unsigned record_ports[32];  /* outputs recorded, 0-based */
	unsigned n_record_ports;    /* 0: every output */
	int force;                  /* recordings may replace files */
	int ui;                     /* 1: terminal UI, 0: headless */
	int no_mouse;               /* the UI leaves the mouse to the terminal */
	struct osc *osc;            /* OSC control (src/osc.h), or NULL */
	struct nsm *nsm;            /* the session manager (src/nsm.h), or NULL */
};

struct session;
struct patchfile;
struct engine;
struct recorder;
struct osc;
struct nsm;

/*
 * Open the JACK client, start the engine with `patch` (the authoritative
 * patch, kept by the caller for the session's life), the recorder and the
 * supervisor thread; start recording if asked.  NULL with a message in
 * err on failure.
 */
struct session *session_open(const struct live_options *o, struct patch *patch,
    char *err, size_t err_size);

/* Stop everything, finalize the recording, autosave the patch durably and
 * report the counters.  Returns the process exit status. */
int session_close(struct session *s);

/* Guard the patch and engine control against the supervisor thread (never
 * taken on the JACK thread). */
void session_lock(struct session *s);
void session_unlock(struct session *s);
/* The lock if it is free now: 0, else -1 (a DSP child being started holds
 * it for a while: a screen that reads through it each frame passes). */
int session_trylock(struct session *s);

/* The parts, for front ends that show them (read patch under the lock). */
struct patch *session_patch(struct session *s);
/* The patch's own file (src/patchfile.h): where `save` and :w write. */
struct patchfile *session_file(struct session *s);
struct engine *session_engine(struct session *s);
struct jackio *session_jack(struct session *s);
struct recorder *session_recorder(struct session *s);
const struct live_options *session_options(const struct session *s);

/*
 * Run one line: a patch command (applied to the patch, sent to the DSP
 * child and autosaved) or a session command (note, record, save, stats,
 * quit; `save [FILE]` and `save! [FILE]`, see patchfile_save).  The
 * answer goes into reply: "ok ..." or "error: ...".  Returns 0,
 * or -1 on error.  Takes the lock itself.
 */
int session_exec(struct session *s, const char *line, char *reply,
    size_t size);

/*
 * Make `next` the patch, click-free: parameter changes only when the
 * structure is the same, else one atomic replacement in the child; then
 * autosave.  Takes the lock itself.
 */
void session_replace(struct session *s, const struct patch *next);

/* MIDI learn: wait for the next controller that moves and map it onto
 * parameter `param` of module `module` (indices of the session's patch).
 * 0 with *msg telling the player what to do, or -1 with *msg saying why
 * not.  The outcome comes later through session_learn_poll. */
int session_learn(struct session *s, int module, unsigned param, char *msg,
    size_t size);
/* Stop waiting; 1 if it was waiting. */
int session_learn_cancel(struct session *s);
/* 1 with *msg once a learn has ended ("learned: cc 74 flt.cutoff"). */
int session_learn_poll(struct session *s, char *msg, size_t size);

struct midi_status;
/* What the UI shows of the MIDI being played (src/midilive.h). */
void session_midi_status(struct session *s, struct midi_status *out);

/* Voices that sounded in the DSP's last cycle (src/graph.h): the child's
 * word, clamped to the patch's polyphony (0 with no voice modules). */
unsigned session_voices_sounding(struct session *s);

/* Ask the session to end, with a reason for the last message. */
void session_quit(struct session *s, const char *reason);
/* Whether it should end (quit, or the JACK server went away). */
int session_should_quit(const struct session *s);

/* Save the patch to its autosave file now; `durable` also fsyncs it (on the
 * way out).  Changes made through session_exec and session_replace are
 * autosaved by the supervisor thread within half a second (one write per
 * half second however many changes), and always by session_close.  0, or
 * -1 with a message already given. */
int session_autosave(struct session *s, int durable);

/* While a front end auditions other patches (the UI's patch browser), the
 * autosave keeps writing `kept`, the user's own patch, never the patch
 * auditioned; NULL ends the hold.  Takes the lock itself. */
void session_autosave_hold(struct session *s, const struct patch *kept);

/* The session's autosave file now (it follows the origin), into buf. */
int session_autosave_file(struct session *s, char *buf, size_t size);

/* Write `p` atomically (temporary file, then rename) with mode 0600 to
 * `path`, after a comment line `header` if not NULL; `durable` fsyncs
 * before the rename.  0, or -1 with errno. */
int patch_write_atomic(const struct patch *p, const char *path, int durable,
    const char *header);

/* The session's patch now comes from `patch_path` (NULL: the built-in
 * patch); the autosave says so, so that it is offered back only with the
 * same patch. */
void session_set_origin(struct session *s, const char *patch_path);

/* What an autosave is "of": the absolute path of the patch file, or
 * "(the built-in patch)", into buf.  For a patch file given by `patch_path`
 * (NULL: built-in) this makes the text; for an autosave file, autosave_origin
 * reads it back (-1 when the file has none). */
void patch_origin(const char *patch_path, char *buf, size_t size);
int autosave_origin(const char *autosave_file, char *buf, size_t size);

/*
 * Autosaves are kept per JACK client name and per patch:
 * $XDG_STATE_HOME/forksynth/autosave/CLIENT/ (else ~/.local/state/...),
 * created 0700, holds one file per patch that client played, named after
 * the patch file and a hash of its absolute path (`origin`, as
 * patch_origin makes it): pad-1a2b3c4d.fsp, built-in-5e6f7a8b.fsp.
 * Bytes of CLIENT and of the name outside [A-Za-z0-9_-] are written %XX.
 * autosave_dir gives the folder, autosave_path the file.  0, or -1.
 */
int autosave_dir(const char *client, char *buf, size_t size);
int autosave_path(const char *client, const char *origin, char *buf,
    size_t size);

#endif
