/*
 * src/nsm.c — the NSM client (src/nsm.h), after the published NSM API:
 * announce with the ":dirty:" capability, open (client id, path prefix:
 * the patch is prefix + ".fsp"), save answered /reply or /error, and
 * /nsm/client/is_dirty and is_clean as the patch changes.  The socket is
 * connected to the manager, so that only it is heard and a manager that
 * vanished shows as a refused send (ECONNREFUSED): then the session plays
 * on without it and says so; the patch file and the autosave keep
 * everything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lo/lo.h>

#include "command.h"
#include "futex.h"
#include "log.h"
#include "nsm.h"
#include "osc.h"
#include "patchfile.h"
#include "session.h"

/* The API version this follows, and our capabilities. */
#define NSM_API_MAJOR 1
#define NSM_API_MINOR 2
#define NSM_CAPABILITIES ":dirty:"

/* Error codes of the API that we send. */
#define NSM_ERR_GENERAL (-1)
#define NSM_ERR_LAUNCH_FAILED (-4)
#define NSM_ERR_NOT_NOW (-8)
#define NSM_ERR_BAD_PROJECT (-9)
#define NSM_ERR_CREATE_FAILED (-10)

#define NSM_DATAGRAM_MAX 65536

struct nsm {
	int fd;                      /* connected to the manager; -1: gone */
	char url[300];
	char client_id[64];
	char display_name[128];
	char path[1100];             /* the session's patch file */
	int opened;                  /* an open arrived */
	int reported_dirty;          /* what the manager was last told */
	char gone_why[100];          /* why it went away, once it did */
	struct patch *clean;         /* the patch as last loaded or saved */
	unsigned char buf[NSM_DATAGRAM_MAX];
};

/* The manager is gone: say so once and stop talking to it. */
static void
nsm_gone(struct nsm *n, const char *why)
{
	if (n->fd < 0)
		return;
	close(n->fd);
	n->fd = -1;
	snprintf(n->gone_why, sizeof n->gone_why, "%s", why);
	if (!n->opened)
		return;    /* at the start: nsm_start says what it means */
	info("the session manager at %s went away (%s): forksynth plays on as "
	    "'%s'; nothing is lost: %s keeps what was last saved, 'save! %s' "
	    "writes the patch there now, and the autosave keeps every change",
	    n->url, why, n->client_id, n->path, n->path);
}

/* Send to the manager; a refused send means it is gone. */
static void
nsm_send_failed(struct nsm *n)
{
	if (errno == ECONNREFUSED || errno == ENOTCONN)
		nsm_gone(n, strerror(errno));
	else
		warn("NSM: could not send to %s: %s", n->url, strerror(errno));
}

/* Read one datagram from the manager into n->buf; its message or NULL
 * (nothing waiting, unreadable, or the manager went away). */
static lo_message
nsm_receive(struct nsm *n)
{
	ssize_t len = recv(n->fd, n->buf, sizeof n->buf - 1, MSG_DONTWAIT);
	if (len < 0) {
		if (errno == ECONNREFUSED)
			nsm_gone(n, "its port is closed");
		return NULL;
	}
	int result = 0;
	lo_message m = lo_message_deserialise(n->buf, (size_t)len, &result);
	if (m == NULL)
		warn("NSM: ignored %zd bytes from %s that are not an OSC message",
		    len, n->url);
	return m;
}

/* The string argument k of m, or "" when it is not one. */
static const char *
arg_string(lo_message m, int k)
{
	const char *types = lo_message_get_types(m);
	if (types == NULL || (int)strlen(types) <= k || types[k] != 's')
		return "";
	/* the bytes start the argument; lo_arg's alignment is not theirs */
	return (const char *)lo_message_get_argv(m)[k];
}

/* Take an /nsm/client/open: where the session keeps our files. */
static void
take_open(struct nsm *n, lo_message m)
{
	const char *types = lo_message_get_types(m);
	if (n->opened) {
		/* without :switch: the manager restarts us instead */
		osc_send(n->fd, NULL, 0, "/error", "sis", "/nsm/client/open",
		    NSM_ERR_NOT_NOW, "forksynth cannot switch to another session "
		    "while it runs (no :switch: capability): stop it and start it "
		    "in the new session");
		return;
	}
	const char *prefix = arg_string(m, 0), *id = arg_string(m, 2);
	if (types == NULL || strcmp(types, "sss") != 0 || prefix[0] == '\0' ||
	    id[0] == '\0' || strlen(id) >= sizeof n->client_id ||
	    strlen(prefix) + 5 > sizeof n->path) {
		osc_send(n->fd, NULL, 0, "/error", "sis", "/nsm/client/open",
		    NSM_ERR_GENERAL, "forksynth expects /nsm/client/open with a "
		    "path prefix, a display name and a client id of 1 to 63 "
		    "characters");
		warn("NSM: refused an /nsm/client/open with types '%s'",
		    types ? types : "");
		return;
	}
	snprintf(n->client_id, sizeof n->client_id, "%s", id);
	snprintf(n->display_name, sizeof n->display_name, "%s", arg_string(m, 1));
	snprintf(n->path, sizeof n->path, "%s.fsp", prefix);
	n->opened = 1;
}

struct nsm *
nsm_start(const char *url, const char *executable, double timeout, char *err,
    size_t size)
{
	if (lo_url_get_protocol_id(url) != LO_UDP) {
		snprintf(err, size, "NSM_URL '%s' is not an osc.udp:// address; "
		    "forksynth speaks NSM over UDP", url);
		return NULL;
	}
	char *host = lo_url_get_hostname(url), *port = lo_url_get_port(url);
	/* IPv4 first, as liblo's servers listen by default ("localhost" may
	 * name ::1 first, where nobody listens); else whatever there is */
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	int gai = host && port ? getaddrinfo(host, port, &hints, &ai) : EAI_NONAME;
	if (gai != 0 && host && port) {
		hints.ai_family = AF_UNSPEC;
		gai = getaddrinfo(host, port, &hints, &ai);
	}
	free(host);
	free(port);
	if (gai != 0) {
		snprintf(err, size, "NSM_URL '%s': no such host or port (%s)", url,
		    gai_strerror(gai));
		return NULL;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, size, "NSM_URL '%s': %s", url, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	struct nsm *n = xcalloc(1, sizeof *n);
	n->fd = fd;
	snprintf(n->url, sizeof n->url, "%s", url);
	const char *base = strrchr(executable, '/');
	if (osc_send(fd, NULL, 0, "/nsm/server/announce", "sssiii", "forksynth",
	    NSM_CAPABILITIES, base ? base + 1 : executable, NSM_API_MAJOR,
	    NSM_API_MINOR, (int)getpid()) != 0) {
		snprintf(err, size, "NSM_URL is %s, but the session manager cannot "
		    "be told we are here (%s); unset NSM_URL to play outside a "
		    "session", url, strerror(errno));
		nsm_close(n);
		return NULL;
	}
	uint64_t until = futex_now_ns() + (uint64_t)(timeout * 1e9);
	while (!n->opened) {
		uint64_t now = futex_now_ns();
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		if (now >= until || poll(&pfd, 1, (int)((until - now) / 1000000) + 1) < 0)
			break;
		if (pfd.revents == 0)
			continue;
		lo_message m = nsm_receive(n);
		if (n->fd < 0)
			break;
		if (m == NULL)
			continue;
		const char *path = (const char *)n->buf;
		if (strcmp(path, "/error") == 0 &&
		    strcmp(arg_string(m, 0), "/nsm/server/announce") == 0) {
			snprintf(err, size, "the session manager at %s refused us: %s",
			    url, arg_string(m, 2));
			lo_message_free(m);
			nsm_close(n);
			return NULL;
		}
		if (strcmp(path, "/reply") == 0 &&
		    strcmp(arg_string(m, 0), "/nsm/server/announce") == 0)
			info("NSM: %s (%s)", arg_string(m, 1), arg_string(m, 2));
		else if (strcmp(path, "/nsm/client/open") == 0)
			take_open(n, m);
		lo_message_free(m);
	}
	if (!n->opened && n->fd < 0) {
		snprintf(err, size, "NSM_URL is %s, but no session manager answers "
		    "there (%s); unset NSM_URL to play outside a session", url,
		    n->gone_why);
		nsm_close(n);
		return NULL;
	}
	if (!n->opened) {
		snprintf(err, size, "NSM_URL is %s, but the session manager sent no "
		    "/nsm/client/open within %g s; is it running?  Unset NSM_URL to "
		    "play outside a session", url, timeout);
		nsm_close(n);
		return NULL;
	}
	n->clean = xmalloc(sizeof *n->clean);
	return n;
}

void
nsm_close(struct nsm *n)
{
	if (n == NULL)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n->clean);
	free(n);
}

const char *nsm_client_id(const struct nsm *n) { return n->client_id; }
const char *nsm_patch_path(const struct nsm *n) { return n->path; }
int nsm_fd(const struct nsm *n) { return n->fd; }

/* Make each missing folder above `path`. */
static void
make_parents(const char *path)
{
	char dir[sizeof ((struct nsm *)0)->path];
	snprintf(dir, sizeof dir, "%s", path);
	for (char *s = dir + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(dir, 0777);
		*s = '/';
	}
}

int
nsm_load_patch(struct nsm *n, struct patch *p, const char *template,
    char **text, char *err, size_t size)
{
	struct patch_error perr = { 0 };
	char msg[700];
	int code = NSM_ERR_BAD_PROJECT;
	*text = NULL;
	if (access(n->path, F_OK) != 0) {
		make_parents(n->path);
		code = NSM_ERR_CREATE_FAILED;
		if (patchfile_write(n->path, template, msg, sizeof msg) != 0) {
			snprintf(err, size, "cannot create the session's patch: %s", msg);
			goto fail;
		}
		info("NSM: a new session: the patch is %s", n->path);
		code = NSM_ERR_BAD_PROJECT;
	}
	struct patch *next = xmalloc(sizeof *next);
	patch_init(next, p->n_inputs, p->n_outputs);
	if (cmd_read_file(n->path, PATCHFILE_TEXT_MAX, text, &perr) != 0 ||
	    patch_load_text(next, *text, n->path, &perr) != 0) {
		patch_error_format(&perr, msg, sizeof msg);
		snprintf(err, size, "the session's patch does not load: %s; fix it "
		    "or move it away, and open the session again", msg);
		free(next);
		free(*text);
		*text = NULL;
		goto fail;
	}
	*p = *next;
	*n->clean = *next;
	free(next);
	return 0;
fail:
	if (n->fd >= 0)
		osc_send(n->fd, NULL, 0, "/error", "sis", "/nsm/client/open", code,
		    err);
	return -1;
}

void
nsm_opened(struct nsm *n, int ok, const char *message)
{
	if (n->fd < 0)
		return;
	int rc = ok ? osc_send(n->fd, NULL, 0, "/reply", "ss", "/nsm/client/open",
	    message) : osc_send(n->fd, NULL, 0, "/error", "sis",
	    "/nsm/client/open", NSM_ERR_LAUNCH_FAILED, message);
	if (rc != 0)
		nsm_send_failed(n);
}

/* /nsm/client/save: write the patch to the session's file. */
static void
take_save(struct nsm *n, struct session *s)
{
	char line[sizeof n->path + 16], reply[1400];
	/* the manager owns the file: its save needs no force from the user,
	 * and goes to the session's file whatever `save FILE` did since */
	snprintf(line, sizeof line, "save! %s", n->path);
	int rc = session_exec(s, line, reply, sizeof reply);
	if (rc == 0) {
		session_lock(s);
		*n->clean = *session_patch(s);
		session_unlock(s);
		info("NSM: %s", reply + 3);
		rc = osc_send(n->fd, NULL, 0, "/reply", "ss", "/nsm/client/save",
		    reply + 3);
	} else {
		const char *why = strncmp(reply, "error: ", 7) == 0 ? reply + 7 : reply;
		warn("NSM: could not save: %s", why);
		rc = osc_send(n->fd, NULL, 0, "/error", "sis", "/nsm/client/save",
		    NSM_ERR_GENERAL, why);
	}
	if (rc != 0)
		nsm_send_failed(n);
}

void
nsm_take(struct nsm *n, struct session *s)
{
	while (n->fd >= 0) {
		struct pollfd pfd = { .fd = n->fd, .events = POLLIN };
		if (poll(&pfd, 1, 0) <= 0)
			return;
		lo_message m = nsm_receive(n);
		if (m == NULL)
			continue;
		const char *path = (const char *)n->buf;
		if (strcmp(path, "/nsm/client/save") == 0)
			take_save(n, s);
		else if (strcmp(path, "/nsm/client/open") == 0)
			take_open(n, m);
		else if (strcmp(path, "/nsm/client/session_is_loaded") == 0)
			info("NSM: the session is loaded");
		else if (strcmp(path, "/reply") == 0 || strcmp(path, "/error") == 0)
			;    /* answers to what we told it */
		else
			warn("NSM: ignored %s from the session manager (not in the "
			    "API forksynth follows)", path);
		lo_message_free(m);
	}
}

void
nsm_tick(struct nsm *n, struct session *s)
{
	if (n->fd < 0)
		return;
	session_lock(s);
	int dirty = !patch_equal(session_patch(s), n->clean);
	session_unlock(s);
	if (dirty == n->reported_dirty)
		return;
	n->reported_dirty = dirty;
	if (osc_send(n->fd, NULL, 0, dirty ? "/nsm/client/is_dirty" :
	    "/nsm/client/is_clean", "") != 0)
		nsm_send_failed(n);
}
