/*
 * tests/oscpeer.c — a scriptable OSC peer for the tests: it listens on a
 * UDP port of 127.0.0.1, prints every message it hears as oscdump does
 * (`/path types arg ...`, strings in quotes), and sends what its stdin
 * says, from that same port, so that answers sent "to the sender" come
 * back to it.  It plays a client of forksynth's --osc, and the server side
 * of NSM.
 *
 * usage: oscpeer [-p PORT] [-n COUNT] [-t SECONDS]
 *   prints "port N" first; exits after COUNT messages heard (status 0) or
 *   after SECONDS (status 1 if COUNT was given and not reached); without
 *   -n, also when stdin ends.
 * stdin, one line each, fields separated by '|':
 *   send|HOST|PORT|PATH|TYPES|ARG|...   a message (types s i f d h)
 *   reply|PATH|TYPES|ARG|...            to the last peer heard
 *   raw|HOST|PORT|TEXT                  TEXT's bytes as one datagram
 *   fuzz|HOST|PORT|COUNT                COUNT malformed datagrams
 *   quit
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <lo/lo.h>

#define LINE_MAX_BYTES 200000

static int sock;
static struct sockaddr_in last_peer;
static int have_peer;

/* The address of HOST:PORT (IPv4) into a, or -1. */
static int
address(const char *host, const char *port, struct sockaddr_in *a)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	memcpy(a, ai->ai_addr, sizeof *a);
	freeaddrinfo(ai);
	return 0;
}

/* Build the message of `fields` (PATH, TYPES, ARG...) and send it to a. */
static void
send_fields(char **fields, int n, const struct sockaddr_in *a)
{
	if (n < 2) {
		fprintf(stderr, "oscpeer: a message needs PATH and TYPES\n");
		return;
	}
	lo_message m = lo_message_new();
	const char *types = fields[1];
	int k = 2;
	for (const char *t = types; *t != '\0'; t++, k++) {
		const char *v = k < n ? fields[k] : "";
		switch (*t) {
		case 's': lo_message_add_string(m, v); break;
		case 'i': lo_message_add_int32(m, atoi(v)); break;
		case 'h': lo_message_add_int64(m, atoll(v)); break;
		case 'f': lo_message_add_float(m, strtof(v, NULL)); break;
		case 'd': lo_message_add_double(m, strtod(v, NULL)); break;
		default:
			fprintf(stderr, "oscpeer: type '%c' not known\n", *t);
		}
	}
	size_t len;
	void *data = lo_message_serialise(m, fields[0], NULL, &len);
	if (sendto(sock, data, len, 0, (const struct sockaddr *)a, sizeof *a) < 0)
		perror("oscpeer: sendto");
	free(data);
	lo_message_free(m);
}

/* Send `count` malformed datagrams to a: random bytes, a good message
 * cut short, and good paths with random type tags and arguments (the
 * seed is fixed: a failure can be replayed). */
static void
fuzz(const struct sockaddr_in *a, int count)
{
	static const char *const paths[] = { "/forksynth/cmd", "/forksynth/set",
	    "/forksynth/note", "#bundle" };
	unsigned char d[4096];
	srand(16);
	for (int k = 0; k < count; k++) {
		size_t len = (size_t)(rand() % 600);
		for (size_t i = 0; i < len; i++)
			d[i] = (unsigned char)rand();
		if (k % 3 != 0) {
			/* a real path, padded, then a type tag of random letters */
			const char *p = paths[rand() % 4];
			size_t pl = strlen(p) + 1, off = (pl + 3) & ~(size_t)3;
			memset(d, 0, off);
			memcpy(d, p, pl - 1);
			if (k % 3 == 2 && off + 8 < sizeof d) {
				static const char tags[] = "sifdhbSmtTFNIc";
				d[off] = ',';
				for (int t = 1; t < 7; t++)
					d[off + t] = (unsigned char)tags[rand() % 15];
				d[off + 7] = 0;
			}
			if (len < off)
				len = off + (size_t)(rand() % 16);
		}
		sendto(sock, d, len, 0, (const struct sockaddr *)a, sizeof *a);
		if (k % 50 == 49)
			usleep(20000);    /* let the socket's buffer drain */
	}
}

/* Run one line of stdin; 1 on quit. */
static int
run_line(char *line)
{
	char *fields[64];
	int n = 0;
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "raw|", 4) == 0) {
		char *host = line + 4, *port = strchr(host, '|'), *text;
		if (port == NULL || (text = strchr(port + 1, '|')) == NULL)
			return 0;
		*port++ = '\0';
		*text++ = '\0';
		struct sockaddr_in a;
		if (address(host, port, &a) == 0)
			sendto(sock, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a);
		return 0;
	}
	if (strncmp(line, "fuzz|", 5) == 0) {
		char *host = line + 5, *port = strchr(host, '|'), *cnt;
		if (port == NULL || (cnt = strchr(port + 1, '|')) == NULL)
			return 0;
		*port++ = '\0';
		*cnt++ = '\0';
		struct sockaddr_in a;
		if (address(host, port, &a) == 0)
			fuzz(&a, atoi(cnt));
		return 0;
	}
	for (char *p = line; n < 64; n++) {
		fields[n] = p;
		char *bar = strchr(p, '|');
		if (bar == NULL) {
			n++;
			break;
		}
		*bar = '\0';
		p = bar + 1;
	}
	if (strcmp(fields[0], "quit") == 0)
		return 1;
	if (strcmp(fields[0], "send") == 0 && n >= 3) {
		struct sockaddr_in a;
		if (address(fields[1], fields[2], &a) != 0)
			fprintf(stderr, "oscpeer: no address %s:%s\n", fields[1], fields[2]);
		else
			send_fields(fields + 3, n - 3, &a);
	} else if (strcmp(fields[0], "reply") == 0 && have_peer) {
		send_fields(fields + 1, n - 1, &last_peer);
	} else if (fields[0][0] != '\0') {
		fprintf(stderr, "oscpeer: not understood: %s\n", fields[0]);
	}
	return 0;
}

/* Print one datagram as oscdump does. */
static void
print_message(unsigned char *buf, ssize_t len)
{
	int result;
	lo_message m = lo_message_deserialise(buf, (size_t)len, &result);
	if (m == NULL) {
		printf("(not OSC: %zd bytes)\n", len);
		return;
	}
	const char *types = lo_message_get_types(m);
	lo_arg **argv = lo_message_get_argv(m);
	printf("%s %s", (char *)buf, types);
	for (int k = 0; types[k] != '\0'; k++) {
		/* 4-byte aligned in the message: copied out, never read
		 * through lo_arg (a union that wants 8) */
		const void *v = argv[k];
		int32_t i;
		int64_t h;
		float f;
		double d;
		switch (types[k]) {
		case 's': printf(" \"%s\"", (const char *)v); break;
		case 'i': memcpy(&i, v, 4); printf(" %d", i); break;
		case 'h': memcpy(&h, v, 8); printf(" %lld", (long long)h); break;
		case 'f': memcpy(&f, v, 4); printf(" %g", f); break;
		case 'd': memcpy(&d, v, 8); printf(" %g", d); break;
		default: printf(" ?");
		}
	}
	printf("\n");
	lo_message_free(m);
}

int
main(int argc, char **argv)
{
	int c, count = -1;
	double seconds = 3600;
	const char *port = "0";
	while ((c = getopt(argc, argv, "p:n:t:")) != -1) {
		if (c == 'p')
			port = optarg;
		else if (c == 'n')
			count = atoi(optarg);
		else if (c == 't')
			seconds = atof(optarg);
		else
			return 2;
	}
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)atoi(port)),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(sock, (struct sockaddr *)&a, sizeof a) != 0) {
		perror("oscpeer: bind");
		return 2;
	}
	socklen_t alen = sizeof a;
	getsockname(sock, (struct sockaddr *)&a, &alen);
	printf("port %u\n", ntohs(a.sin_port));
	fflush(stdout);

	static char line[LINE_MAX_BYTES];
	static unsigned char buf[70000];
	FILE *in = stdin;
	int heard = 0, in_open = 1;
	size_t have = 0;
	time_t end = time(NULL) + (time_t)seconds;
	while (time(NULL) < end && (count < 0 || heard < count)) {
		struct pollfd pfd[2] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = in_open ? fileno(in) : -1, .events = POLLIN },
		};
		if (poll(pfd, 2, 200) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			socklen_t plen = sizeof last_peer;
			ssize_t n = recvfrom(sock, buf, sizeof buf, 0,
			    (struct sockaddr *)&last_peer, &plen);
			if (n >= 0) {
				have_peer = 1;
				print_message(buf, n);
				fflush(stdout);
				heard++;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			/* read raw and split here: stdio's buffer would hide lines
			 * from poll */
			ssize_t n = read(fileno(in), line + have, sizeof line - 1 - have);
			if (n <= 0) {
				/* without a count to wait for, the script is done */
				if (count < 0)
					break;
				in_open = 0;
				continue;
			}
			have += (size_t)n;
			line[have] = '\0';
			char *nl;
			int quit = 0;
			while (!quit && (nl = memchr(line, '\n', have)) != NULL) {
				*nl = '\0';
				quit = run_line(line);
				size_t used = (size_t)(nl + 1 - line);
				memmove(line, nl + 1, have - used);
				have -= used;
				line[have] = '\0';
			}
			if (quit)
				break;
		}
	}
	return count >= 0 && heard < count ? 1 : 0;
}
