/*
 * tests/midisend.c — a tiny JACK client that sends raw MIDI bytes, well
 * formed or not, to a port: for testing how forksynth takes bad input.
 *
 *   midisend DEST-PORT HEX...   each argument is one message, e.g. 903c64
 *                               (note on), 90 (truncated), 9080ff (bad data)
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jack/jack.h>
#include <jack/midiport.h>

static jack_port_t *port;
static unsigned char msgs[64][16];
static size_t lens[64];
static int n_msgs;
static atomic_int sent;

/* Send every message once, in the first cycle after activation. */
static int
process(jack_nframes_t n, void *arg)
{
	void *buf = jack_port_get_buffer(port, n);
	(void)arg;
	jack_midi_clear_buffer(buf);
	if (atomic_load(&sent))
		return 0;
	for (int i = 0; i < n_msgs; i++)
		jack_midi_event_write(buf, (jack_nframes_t)i, msgs[i], lens[i]);
	atomic_store(&sent, 1);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: midisend DEST-PORT HEX...\n");
		return 2;
	}
	for (int i = 2; i < argc && n_msgs < 64; i++, n_msgs++)
		for (size_t k = 0; argv[i][2 * k] && argv[i][2 * k + 1] && k < 16; k++) {
			char hex[3] = { argv[i][2 * k], argv[i][2 * k + 1], 0 };
			msgs[n_msgs][k] = (unsigned char)strtoul(hex, NULL, 16);
			lens[n_msgs] = k + 1;
		}
	/* A server busy with other clients coming and going on a loaded
	 * machine can fail an open now and then: try for 5 s before giving
	 * up. */
	jack_status_t status = 0;
	jack_client_t *c = NULL;
	for (int tries = 0; c == NULL && tries < 50; tries++) {
		if (tries > 0)
			usleep(100000);
		c = jack_client_open("midisend", JackNoStartServer, &status);
	}
	if (c == NULL) {
		fprintf(stderr, "midisend: cannot open a JACK client for 5 s "
		    "(status 0x%x)\n", (unsigned)status);
		return 1;
	}
	port = jack_port_register(c, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
	jack_set_process_callback(c, process, NULL);
	jack_activate(c);
	if (jack_connect(c, jack_port_name(port), argv[1]) != 0) {
		fprintf(stderr, "midisend: cannot connect to %s\n", argv[1]);
		return 1;
	}
	atomic_store(&sent, 0);
	for (int i = 0; i < 200 && !atomic_load(&sent); i++)
		usleep(5000);
	usleep(100000);
	jack_client_close(c);
	return 0;
}
