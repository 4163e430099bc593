/*
 * src/osc.h — OSC control of a live session over UDP: the command language
 * in /forksynth/cmd, the fast paths /forksynth/set and /forksynth/note,
 * each answered to its sender with /forksynth/reply.  Messages are taken
 * on the front end's own thread (its poll loop), so that they meet the
 * stdin protocol and the UI's keys in one order, never in parallel.
 */
#ifndef FORKSYNTH_OSC_H
#define FORKSYNTH_OSC_H

#include <stddef.h>
#include <sys/socket.h>

struct session;
struct osc;

/*
 * Bind a UDP socket on `port` (decimal, 0: any free port) of 127.0.0.1,
 * or of every interface when `any`.  NULL with a message in err naming
 * the port and what to do.
 */
struct osc *osc_open(const char *port, int any, char *err, size_t size);
void osc_close(struct osc *o);

/* The socket, for poll(2) (POLLIN: messages wait). */
int osc_fd(const struct osc *o);
/* The port bound, as a number. */
unsigned osc_port(const struct osc *o);

/* Take every message waiting without blocking, run each through the
 * session's command path and answer it.  Returns how many commands
 * succeeded (the patch may have changed). */
unsigned osc_take(struct osc *o, struct session *s);

/* Send one message to `to` on the datagram socket `fd`: `path` and
 * arguments by `types` as liblo's lo_message_add takes them ("s", "ss",
 * "sis" ...).  0, or -1 with errno. */
int osc_send(int fd, const struct sockaddr *to, socklen_t to_len,
    const char *path, const char *types, ...);

#endif
