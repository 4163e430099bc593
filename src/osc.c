/*
 * src/osc.c — OSC control of a live session (src/osc.h).  liblo reads and
 * writes the messages; the socket is ours, so that it is bound where we
 * say (127.0.0.1 unless asked otherwise) and polled by the front end's
 * loop.  Every message is checked whole before anything runs: a wrong
 * type, an unknown path, an overlong or multi-line string or a command
 * that fails gets "error: ..." back and one log line; nothing of it runs.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lo/lo.h>

#include "command.h"
#include "log.h"
#include "osc.h"
#include "session.h"

/* The largest datagram read; a larger one is cut by the kernel and
 * refused here (MSG_TRUNC tells). */
#define OSC_DATAGRAM_MAX 65536

/* Error log lines per second at most; a flood of bad messages is counted
 * and told once a second instead of burying the rest of the log. */
#define OSC_LOG_PER_SECOND 5

/* Messages taken in one turn of the front end's loop at most. */
#define OSC_BATCH 256

/* The answer every message gets. */
#define OSC_REPLY_PATH "/forksynth/reply"

#define OSC_USAGE "forksynth takes /forksynth/cmd s (a command line), " \
	"/forksynth/set s f (MODULE.PARAM VALUE) and /forksynth/note i i f " \
	"(NOTE VELOCITY SECONDS)"

struct osc {
	int fd;
	unsigned port;
	time_t log_second;          /* the second the log count is of */
	unsigned logged;            /* error lines told in it */
	unsigned long suppressed;   /* error lines not told since */
	unsigned char buf[OSC_DATAGRAM_MAX];
};

struct osc *
osc_open(const char *port, int any, char *err, size_t size)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(port, &end, 10);
	if (errno != 0 || end == port || *end != '\0' || n > 65535) {
		snprintf(err, size, "--osc: expected a UDP port number 0..65535 "
		    "(0: any free port), got '%s'", port);
		return NULL;
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, size, "--osc: no UDP socket: %s", strerror(errno));
		return NULL;
	}
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)n),
		.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK),
	};
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		snprintf(err, size, "--osc %lu: cannot listen there (%s)%s", n,
		    strerror(errno), errno == EADDRINUSE ? "; another program has "
		    "that port: choose another, or 0 for any free port" :
		    errno == EACCES ? "; ports below 1024 are the system's: choose "
		    "one above" : "");
		close(fd);
		return NULL;
	}
	socklen_t len = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &len);
	struct osc *o = xcalloc(1, sizeof *o);
	o->fd = fd;
	o->port = ntohs(a.sin_port);
	return o;
}

void
osc_close(struct osc *o)
{
	if (o == NULL)
		return;
	close(o->fd);
	free(o);
}

int osc_fd(const struct osc *o) { return o->fd; }
unsigned osc_port(const struct osc *o) { return o->port; }

int
osc_send(int fd, const struct sockaddr *to, socklen_t to_len,
    const char *path, const char *types, ...)
{
	lo_message m = lo_message_new();
	va_list ap;
	va_start(ap, types);
	for (const char *t = types; *t != '\0'; t++) {
		if (*t == 's')
			lo_message_add_string(m, va_arg(ap, const char *));
		else if (*t == 'i')
			lo_message_add_int32(m, va_arg(ap, int));
		else if (*t == 'f')
			lo_message_add_float(m, (float)va_arg(ap, double));
	}
	va_end(ap);
	size_t len = 0;
	void *data = lo_message_serialise(m, path, NULL, &len);
	lo_message_free(m);
	if (data == NULL) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t sent = to != NULL ? sendto(fd, data, len, MSG_NOSIGNAL, to, to_len)
	    : send(fd, data, len, MSG_NOSIGNAL);
	free(data);
	return sent == (ssize_t)len ? 0 : -1;
}

/* Say what went wrong with a message from `who`, within the log's rate. */
static void
osc_log(struct osc *o, const char *who, const char *what)
{
	time_t now = time(NULL);
	if (now != o->log_second) {
		if (o->suppressed > 0)
			warn("OSC: %lu more bad message(s) not told", o->suppressed);
		o->log_second = now;
		o->logged = 0;
		o->suppressed = 0;
	}
	if (o->logged++ < OSC_LOG_PER_SECOND)
		warn("OSC from %s: %s", who, what);
	else
		o->suppressed++;
}

/* Whether an OSC type tag is a number this takes. */
static int
is_number(char t)
{
	return t == 'i' || t == 'h' || t == 'f' || t == 'd';
}

/* The number in an argument of type t (is_number).  liblo's arguments are
 * only 4-byte aligned inside the message, while lo_arg, a union with
 * 64-bit members, wants 8: read them by memcpy, never through the union. */
static double
number_of(char t, const lo_arg *a)
{
	int32_t i;
	int64_t h;
	float f;
	double d;
	switch (t) {
	case 'i': memcpy(&i, a, sizeof i); return i;
	case 'h': memcpy(&h, a, sizeof h); return (double)h;
	case 'f': memcpy(&f, a, sizeof f); return f;
	default: memcpy(&d, a, sizeof d); return d;
	}
}

/* The string argument a (type s): its bytes start the argument. */
static const char *
string_of(const lo_arg *a)
{
	return (const char *)a;
}

/* A string argument that may become part of a command line: at most
 * `max` bytes, no control characters (a newline would hide a second
 * command).  0, or -1 with why in err. */
static int
check_string(const char *what, const char *s, size_t max, char *err,
    size_t size)
{
	size_t len = strlen(s);
	if (len > max) {
		snprintf(err, size, "error: %s is %zu bytes, longer than %zu; nothing "
		    "was run", what, len, max);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t') {
			snprintf(err, size, "error: %s has a control character (byte "
			    "0x%02x) at byte %zu; one command per message, nothing was "
			    "run", what, c, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Whether the command line p (blanks skipped) is save, save! or record
 * with a file name: refused over OSC, whose senders are anyone on the
 * machine, so that no one can make forksynth write where they choose. */
static int
names_a_file(const char *p)
{
	size_t word = strcspn(p, " \t");
	const char *arg = p + word + strspn(p + word, " \t");
	size_t arg_len = strlen(arg);
	while (arg_len > 0 && (arg[arg_len - 1] == ' ' || arg[arg_len - 1] == '\t'))
		arg_len--;
	if (arg_len == 0)
		return 0;
	if ((word == 4 && strncmp(p, "save", 4) == 0) ||
	    (word == 5 && strncmp(p, "save!", 5) == 0))
		return 1;
	if (word == 6 && strncmp(p, "record", 6) == 0)
		return !((arg_len == 4 && strncmp(arg, "stop", 4) == 0) ||
		    (arg_len == 6 && strncmp(arg, "status", 6) == 0));
	return 0;
}

/* Turn one message into a command line for the session, or into an error
 * answer; 0 when `line` is to be run. */
static int
osc_line(const char *path, const char *types, lo_arg **argv, char *line,
    size_t line_size, char *reply, size_t size)
{
	if (strcmp(path, "/forksynth/cmd") == 0) {
		if (strcmp(types, "s") != 0) {
			snprintf(reply, size, "error: /forksynth/cmd takes one string "
			    "(type s), got types '%s'; nothing was run", types);
			return -1;
		}
		if (check_string("the command", string_of(argv[0]), CMD_LINE_MAX, reply,
		    size) != 0)
			return -1;
		const char *p = string_of(argv[0]);
		p += strspn(p, " \t");
		if (names_a_file(p)) {
			snprintf(reply, size, "error: over OSC, save, save! and record "
			    "take no file name (any local user can send to 127.0.0.1): "
			    "save and save! write the patch's own file, record names "
			    "its own; name files on stdin or in the UI; nothing was run");
			return -1;
		}
		if (strcmp(p, "help") == 0) {
			snprintf(reply, size, "error: help is not sent over OSC; see "
			    "forksynth(1), COMMANDS, or type help on stdin");
			return -1;
		}
		snprintf(line, line_size, "%s", string_of(argv[0]));
		return 0;
	}
	if (strcmp(path, "/forksynth/set") == 0) {
		if (strlen(types) != 2 || types[0] != 's' ||
		    !(is_number(types[1]) || types[1] == 's')) {
			snprintf(reply, size, "error: /forksynth/set takes MODULE.PARAM "
			    "(s) and a value (f, i, d, or s for a choice), got types "
			    "'%s'; nothing was run", types);
			return -1;
		}
		const char *target = string_of(argv[0]);
		if (check_string("the parameter", target, 200, reply, size) != 0)
			return -1;
		if (target[0] == '\0' || strpbrk(target, " \t#") != NULL) {
			snprintf(reply, size, "error: /forksynth/set: '%s' is not "
			    "MODULE.PARAM (one word, like flt.cutoff); nothing was run",
			    target);
			return -1;
		}
		if (types[1] == 's') {
			const char *v = string_of(argv[1]);
			if (check_string("the value", v, 200, reply, size) != 0)
				return -1;
			if (v[0] == '\0' || strpbrk(v, " \t#") != NULL) {
				snprintf(reply, size, "error: /forksynth/set: the value '%s' "
				    "is not one word; nothing was run", v);
				return -1;
			}
			snprintf(line, line_size, "set %s %s", target, v);
			return 0;
		}
		double v = number_of(types[1], argv[1]);
		if (!isfinite(v)) {
			snprintf(reply, size, "error: /forksynth/set %s: the value is "
			    "not a finite number; nothing was run", target);
			return -1;
		}
		snprintf(line, line_size, "set %s %.9g", target, v);
		return 0;
	}
	if (strcmp(path, "/forksynth/note") == 0) {
		if (strlen(types) != 3 || !(is_number(types[0]) || types[0] == 's') ||
		    !is_number(types[1]) || !is_number(types[2])) {
			snprintf(reply, size, "error: /forksynth/note takes NOTE (i, or "
			    "s: a name like C4), VELOCITY (i) and SECONDS (f), got types "
			    "'%s'; nothing was played", types);
			return -1;
		}
		char note[32];
		if (types[0] == 's') {
			const char *name = string_of(argv[0]);
			if (strlen(name) > 8 || name[0] == '\0' ||
			    strpbrk(name, " \t#") != NULL ||
			    check_string("the note", name, 8, reply, size) != 0) {
				snprintf(reply, size, "error: /forksynth/note: the note "
				    "is not a name like C4 or F#3; nothing was played");
				return -1;
			}
			snprintf(note, sizeof note, "%s", name);
		} else {
			double n = number_of(types[0], argv[0]);
			if (!(n >= 0 && n <= 127) || n != floor(n)) {
				snprintf(reply, size, "error: /forksynth/note: NOTE must be "
				    "a whole number 0..127; nothing was played");
				return -1;
			}
			snprintf(note, sizeof note, "%d", (int)n);
		}
		double vel = number_of(types[1], argv[1]);
		double sec = number_of(types[2], argv[2]);
		if (!(vel >= 1 && vel <= 127) || vel != floor(vel)) {
			snprintf(reply, size, "error: /forksynth/note: VELOCITY must be a "
			    "whole number 1..127; nothing was played");
			return -1;
		}
		if (!(sec > 0 && sec < 3600)) {
			snprintf(reply, size, "error: /forksynth/note: SECONDS must be "
			    "more than 0 and less than 3600; nothing was played");
			return -1;
		}
		snprintf(line, line_size, "note %s %d %.9g", note, (int)vel, sec);
		return 0;
	}
	snprintf(reply, size, "error: unknown OSC path '%.200s'; " OSC_USAGE, path);
	return -1;
}

/* Answer one datagram of `len` bytes (`cut`: longer than the buffer) from
 * `from`.  Returns 1 when a command ran and succeeded. */
static int
osc_datagram(struct osc *o, struct session *s, size_t len, int cut,
    const struct sockaddr_in *from)
{
	char who[64], reply[1400], line[CMD_LINE_MAX + 300];
	snprintf(who, sizeof who, "%s:%u", inet_ntoa(from->sin_addr),
	    ntohs(from->sin_port));
	int ran = 0, result = 0;
	lo_message m = NULL;
	if (cut) {
		snprintf(reply, sizeof reply, "error: a message longer than %d bytes; "
		    "nothing was run", OSC_DATAGRAM_MAX);
	} else if (len >= 7 && memcmp(o->buf, "#bundle", 7) == 0) {
		snprintf(reply, sizeof reply, "error: OSC bundles are not taken; send "
		    "the messages one by one; nothing was run");
	} else if ((m = lo_message_deserialise(o->buf, len, &result)) == NULL) {
		snprintf(reply, sizeof reply, "error: not an OSC message (%zu bytes "
		    "that liblo cannot read, code %d); " OSC_USAGE, len, result);
	} else {
		/* a message that deserialised starts with its path, checked */
		const char *path = (const char *)o->buf;
		const char *types = lo_message_get_types(m);
		if (osc_line(path, types ? types : "", lo_message_get_argv(m), line,
		    sizeof line, reply, sizeof reply) == 0) {
			ran = session_exec(s, line, reply, sizeof reply) == 0;
		}
	}
	if (m != NULL)
		lo_message_free(m);
	if (strncmp(reply, "error", 5) == 0)
		osc_log(o, who, reply);
	if (osc_send(o->fd, (const struct sockaddr *)from, sizeof *from,
	    OSC_REPLY_PATH, "s", reply) != 0 && errno != EAGAIN)
		osc_log(o, who, "could not send the answer back");
	return ran;
}

unsigned
osc_take(struct osc *o, struct session *s)
{
	unsigned done = 0;
	/* a bounded batch: a flood of datagrams must not starve the keys and
	 * stdin that share the loop; the rest wait for the next turn */
	for (unsigned k = 0; k < OSC_BATCH; k++) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof from;
		ssize_t n = recvfrom(o->fd, o->buf, sizeof o->buf, MSG_TRUNC,
		    (struct sockaddr *)&from, &from_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EAGAIN: all taken; an ICMP error from an earlier answer's
			 * peer (ECONNREFUSED) is no business of the next one */
			if (errno == ECONNREFUSED)
				continue;
			break;
		}
		if (from_len < sizeof from || from.sin_family != AF_INET)
			continue;
		done += (unsigned)osc_datagram(o, s, n > (ssize_t)sizeof o->buf ?
		    sizeof o->buf : (size_t)n, n > (ssize_t)sizeof o->buf, &from);
		if (session_should_quit(s))
			break;
	}
	return done;
}
