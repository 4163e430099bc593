/*
 * src/nsm.h — forksynth as a client of a New/Non Session Manager (NSM):
 * when NSM_URL is set it announces itself, takes its client name and
 * patch file from /nsm/client/open, saves on /nsm/client/save, and tells
 * the manager when the patch is dirty or clean.  Everything here runs on
 * the headless front end's thread (its poll loop).
 */
#ifndef FORKSYNTH_NSM_H
#define FORKSYNTH_NSM_H

#include <stddef.h>

#include "patch.h"

struct session;
struct nsm;

/*
 * Announce to the manager at `url` (NSM_URL) as `executable` and wait up
 * to `timeout` seconds for its /nsm/client/open.  NULL with a message in
 * err when the URL is bad, the manager refused us or sent no open.
 */
struct nsm *nsm_start(const char *url, const char *executable, double timeout,
    char *err, size_t size);
void nsm_close(struct nsm *n);

/* What the open said: the client id (our JACK client name) and the
 * patch file of this session (the path prefix + ".fsp"). */
const char *nsm_client_id(const struct nsm *n);
const char *nsm_patch_path(const struct nsm *n);

/*
 * Make `p` the session's patch: load the session's file when it exists;
 * else write `template` (the text of the patch forksynth was started
 * with) there, creating its folder, and load that.  *text gets the text
 * loaded (free it).  -1 with a message in err, already answered to the
 * manager as an /error of the open.
 */
int nsm_load_patch(struct nsm *n, struct patch *p, const char *template,
    char **text, char *err, size_t size);

/* Answer the open once the session plays (ok) or could not start. */
void nsm_opened(struct nsm *n, int ok, const char *message);

/* The socket from the manager, for poll(2); -1 once it went away. */
int nsm_fd(const struct nsm *n);

/* Take what the manager sent (save, a second open ...) and notice it
 * going away; then tell it whether the patch is dirty if that changed. */
void nsm_take(struct nsm *n, struct session *s);
void nsm_tick(struct nsm *n, struct session *s);

#endif
