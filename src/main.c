/*
 * src/main.c — forksynth's entry point: options, introspection (--help,
 * --version, --list-modules, --check) and offline render.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "audiofile.h"
#include "builtin.h"
#include "child.h"
#include "command.h"
#include "engine.h"
#include "jackio.h"
#include "live.h"
#include "nsm.h"
#include "osc.h"
#include "ui.h"
#include "log.h"
#include "patch.h"
#include "patchfile.h"
#include "render.h"
#include "score.h"
#include "standin.h"

/* What the command line asked for. */
struct options {
	const char *render_path;
	const char *score_path;
	const char *patch_path;
	const char *check_path;
	double seconds;
	unsigned rate;
	unsigned block;
	int force;
	unsigned threads;
	int hot;                    /* enum engine_hot */
	int no_fork;
	int no_clip;                /* outputs not held within 0 dBFS */
	const char *name;
	unsigned inputs, outputs;
	int connect, no_start_server, pipeline;
	int no_ui;                  /* headless even on a terminal */
	int no_mouse;               /* the UI leaves the mouse to the terminal */
	double deadline;
	const char *record_path, *record_dir, *format;
	unsigned record_ports[32], n_record_ports;
	int list_modules;
	int man_modules;
	int channel;                /* --channel: 1..16, 0 omni, -1 not given */
	const char *osc_port;       /* --osc PORT, or NULL */
	int osc_any;                /* --osc-any: every interface */
};

enum {
	OPT_RENDER = 256, OPT_SECONDS, OPT_SCORE, OPT_RATE, OPT_BLOCK, OPT_FORCE,
	OPT_LIST_MODULES, OPT_MAN_MODULES, OPT_CHECK, OPT_HELP, OPT_VERSION,
	OPT_THREADS, OPT_NO_FORK, OPT_NAME, OPT_INPUTS, OPT_OUTPUTS, OPT_CONNECT,
	OPT_NO_START_SERVER, OPT_PIPELINE, OPT_DEADLINE, OPT_NO_UI,
	OPT_RECORD, OPT_RECORD_DIR, OPT_RECORD_PORTS, OPT_FORMAT, OPT_MAX_IR, OPT_HOT_WORKERS,
	OPT_NO_CLIP, OPT_NO_MOUSE, OPT_CHANNEL, OPT_OSC, OPT_OSC_ANY
};

static const struct option long_options[] = {
	{ "render",       required_argument, NULL, OPT_RENDER },
	{ "seconds",      required_argument, NULL, OPT_SECONDS },
	{ "score",        required_argument, NULL, OPT_SCORE },
	{ "rate",         required_argument, NULL, OPT_RATE },
	{ "block",        required_argument, NULL, OPT_BLOCK },
	{ "force",        no_argument,       NULL, OPT_FORCE },
	{ "threads",      required_argument, NULL, OPT_THREADS },
	{ "no-fork",      no_argument,       NULL, OPT_NO_FORK },
	{ "no-clip",      no_argument,       NULL, OPT_NO_CLIP },
	{ "name",         required_argument, NULL, OPT_NAME },
	{ "inputs",       required_argument, NULL, OPT_INPUTS },
	{ "outputs",      required_argument, NULL, OPT_OUTPUTS },
	{ "connect",      no_argument,       NULL, OPT_CONNECT },
	{ "no-start-server", no_argument,    NULL, OPT_NO_START_SERVER },
	{ "pipeline",     no_argument,       NULL, OPT_PIPELINE },
	{ "channel",      required_argument, NULL, OPT_CHANNEL },
	{ "hot-workers",  required_argument, NULL, OPT_HOT_WORKERS },
	{ "deadline",     required_argument, NULL, OPT_DEADLINE },
	{ "no-ui",        no_argument,       NULL, OPT_NO_UI },
	{ "no-mouse",     no_argument,       NULL, OPT_NO_MOUSE },
	{ "osc",          required_argument, NULL, OPT_OSC },
	{ "osc-any",      no_argument,       NULL, OPT_OSC_ANY },
	{ "record",       required_argument, NULL, OPT_RECORD },
	{ "record-dir",   required_argument, NULL, OPT_RECORD_DIR },
	{ "record-ports", required_argument, NULL, OPT_RECORD_PORTS },
	{ "format",       required_argument, NULL, OPT_FORMAT },
	{ "max-ir-seconds", required_argument, NULL, OPT_MAX_IR },
	{ "list-modules", no_argument,       NULL, OPT_LIST_MODULES },
	{ "man-modules",  no_argument,       NULL, OPT_MAN_MODULES },
	{ "check",        required_argument, NULL, OPT_CHECK },
	{ "help",         no_argument,       NULL, OPT_HELP },
	{ "version",      no_argument,       NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* Print the usage summary to `f`. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: forksynth [options] [PATCH]\n"
	    "\n"
	    "A modular synthesizer.  PATCH is a file of commands (see forksynth(1));\n"
	    "without one, forksynth plays its built-in patch.\n"
	    "\n"
	    "Live (a JACK client; commands on stdin, answered 'ok' or 'error: ...'):\n"
	    "  --name NAME        JACK client name (default forksynth)\n"
	    "  --inputs N         audio inputs in_1..in_N (default 2)\n"
	    "  --outputs N        audio outputs out_1..out_N (default 2)\n"
	    "  --connect          connect to the physical ports (default: none)\n"
	    "  --no-start-server  fail instead of starting jackd when none runs\n"
	    "  --pipeline         give the DSP a whole period: +1 period of latency\n"
	    "  --deadline F       fraction of the period the DSP may take (default 0.75)\n"
	    "  --no-ui            run headless: commands on stdin, answers on stdout\n"
	    "                     (the default when stdin or stdout is not a terminal)\n"
	    "  --no-mouse         leave the mouse to the terminal (its text selection)\n"
	    "  --channel N|omni   hear MIDI channel N (1..16) only; overrides the\n"
	    "                     patch's `channel` line (default: the patch's, omni)\n"
	    "  --osc PORT         take OSC on UDP PORT of 127.0.0.1 (0: any free port):\n"
	    "                     /forksynth/cmd s, /forksynth/set s f,\n"
	    "                     /forksynth/note i i f; answers /forksynth/reply s\n"
	    "  --osc-any          take OSC on every interface, not only 127.0.0.1\n"
	    "                     (anyone who reaches this machine can play it)\n"
	    "Under a session manager (NSM_URL set) forksynth is its client: the\n"
	    "client id names it, the session keeps the patch; headless.\n"
	    "\n"
	    "Recording (live; the command 'record [FILE]' / 'record stop' at any time):\n"
	    "  --record FILE      record from the first period\n"
	    "  --record-dir DIR   where 'record' without a name writes (default .)\n"
	    "  --record-ports L   outputs to record, e.g. 1,2 (default all)\n"
	    "  --format F         file format for --render and recordings:\n"
	    "                     wav (float), wav24, wav16 (dithered), flac, ogg,\n"
	    "                     aiff, au, caf, w64, rf64 (default: by extension)\n"
	    "\n"
	    "Offline render:\n"
	    "  --render FILE      render to FILE (format from the extension: .wav is\n"
	    "                     32-bit float; also .flac .ogg .aiff .au .caf .w64);\n"
	    "                     - writes to stdout (WAV unless --format says)\n"
	    "  --seconds N        length of the render (default: the score + 2 s)\n"
	    "  --score FILE       timed events, e.g. 'at 0.5 note 57 100 2.0'\n"
	    "                     (default: a built-in phrase)\n"
	    "  --rate N           frames per second (default 48000)\n"
	    "  --block N          frames per block, 1..8192 (default 256)\n"
	    "  --force            replace an existing regular output file (only\n"
	    "                     once the render succeeded; never a device)\n"
	    "\n"
	    "Engine:\n"
	    "  --threads N        DSP threads in the child (default: one per CPU)\n"
	    "  --no-fork          run the DSP threads in this process (no crash\n"
	    "                     isolation; for debugging and comparison)\n"
	    "  --hot-workers M    auto (default): while the DSP needs a quarter of\n"
	    "                     the period or more, DSP threads wake up just\n"
	    "                     before each period and spin for it; on: at any\n"
	    "                     load; off: never (they are woken by the work)\n"
	    "  --no-clip          let output samples beyond 0 dBFS through (live\n"
	    "                     and render); NaN and infinity still become 0\n"
	    "\n"
	    "Convolver:\n"
	    "  --max-ir-seconds S longest impulse response accepted (default 30)\n"
	    "\n"
	    "Introspection:\n"
	    "  --list-modules     module types with their ports and parameters\n"
	    "  --check PATCH      validate a patch; exit 1 with the error if bad\n"
	    "  --help             this text\n"
	    "  --version          version\n");
}

/* Parse a positive number option or die naming it. */
static double
parse_number(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		fatal("--%s: expected a number in %g..%g, got '%s'", opt, lo, hi, s);
	return v;
}

/* Fill `o` from argv; exits on --help, --version and errors. */
static void
options_parse(struct options *o, int argc, char **argv)
{
	int c;
	*o = (struct options){ .rate = 48000, .block = 256, .name = "forksynth",
	    .inputs = 2, .outputs = 2, .deadline = 0.75, .channel = -1 };
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_RENDER: o->render_path = optarg; break;
		case OPT_SECONDS:
			o->seconds = parse_number("seconds", optarg, 0.001, 86400);
			break;
		case OPT_SCORE: o->score_path = optarg; break;
		case OPT_RATE:
			o->rate = (unsigned)parse_number("rate", optarg, 8000, 384000);
			break;
		case OPT_BLOCK:
			o->block = (unsigned)parse_number("block", optarg, 1, 8192);
			break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_THREADS:
			o->threads = (unsigned)parse_number("threads", optarg, 1, 64);
			break;
		case OPT_NO_FORK: o->no_fork = 1; break;
		case OPT_NO_CLIP: o->no_clip = 1; break;
		case OPT_NO_MOUSE: o->no_mouse = 1; break;
		case OPT_OSC: o->osc_port = optarg; break;
		case OPT_OSC_ANY: o->osc_any = 1; break;
		case OPT_NAME:
			if (optarg[0] == '\0' || strlen(optarg) > 60)
				fatal("--name: expected 1 to 60 characters");
			o->name = optarg;
			break;
		case OPT_INPUTS:
			o->inputs = (unsigned)parse_number("inputs", optarg, 0, PATCH_MAX_IO);
			break;
		case OPT_OUTPUTS:
			o->outputs = (unsigned)parse_number("outputs", optarg, 1, PATCH_MAX_IO);
			break;
		case OPT_CONNECT: o->connect = 1; break;
		case OPT_NO_START_SERVER: o->no_start_server = 1; break;
		case OPT_PIPELINE: o->pipeline = 1; break;
		case OPT_CHANNEL:
			if (strcmp(optarg, "omni") == 0)
				o->channel = 0;
			else if (optarg[0] == '\0' || strspn(optarg, "0123456789") !=
			    strlen(optarg) || strlen(optarg) > 2 || atoi(optarg) < 1 ||
			    atoi(optarg) > 16)
				fatal("--channel: expected a MIDI channel 1..16 or omni, "
				    "got '%s'", optarg);
			else
				o->channel = atoi(optarg);
			break;
		case OPT_HOT_WORKERS:
			if (strcmp(optarg, "auto") == 0)
				o->hot = ENGINE_HOT_AUTO;
			else if (strcmp(optarg, "on") == 0)
				o->hot = ENGINE_HOT_ON;
			else if (strcmp(optarg, "off") == 0)
				o->hot = ENGINE_HOT_OFF;
			else
				fatal("--hot-workers: expected auto, on or off, got '%s'",
				    optarg);
			break;
		case OPT_DEADLINE:
			o->deadline = parse_number("deadline", optarg, 0.05, 0.95);
			break;
		case OPT_NO_UI: o->no_ui = 1; break;
		case OPT_RECORD: o->record_path = optarg; break;
		case OPT_MAX_IR:
			/* read by the convolver in this process and in the DSP child */
			parse_number("max-ir-seconds", optarg, 0.001, 3600);
			setenv("FORKSYNTH_MAX_IR_SECONDS", optarg, 1);
			break;
		case OPT_RECORD_DIR: o->record_dir = optarg; break;
		case OPT_FORMAT:
			if (!audiofile_known("", optarg))
				fatal("--format: unknown format '%s' (wav, wav24, wav16, "
				    "flac, ogg, aiff, au, caf, w64, rf64)", optarg);
			o->format = optarg;
			break;
		case OPT_RECORD_PORTS: {
			char *save = NULL, *list = optarg;
			for (char *t = strtok_r(list, ",", &save); t != NULL;
			    t = strtok_r(NULL, ",", &save)) {
				double v = parse_number("record-ports", t, 1, 32);
				if (o->n_record_ports < 32)
					o->record_ports[o->n_record_ports++] = (unsigned)v - 1;
			}
			break;
		}
		case OPT_LIST_MODULES: o->list_modules = 1; break;
		case OPT_MAN_MODULES: o->man_modules = 1; break;
		case OPT_CHECK: o->check_path = optarg; break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("forksynth %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		o->patch_path = argv[optind++];
	if (optind < argc)
		fatal("unexpected argument '%s' (one PATCH at most; see --help)",
		    argv[optind]);
	if (o->osc_any && o->osc_port == NULL)
		fatal("--osc-any: give the port with --osc PORT too");
	if (o->osc_port != NULL && o->render_path != NULL)
		fatal("--osc: only a live session takes OSC; --render plays its "
		    "score alone");
}

/* "lo..hi unit" or "a|b|c" for a parameter, into buf. */
static void
param_range(const struct param_desc *pd, char *buf, size_t size)
{
	if (pd->kind == PARAM_TEXT) {
		snprintf(buf, size, "a file");
	} else if (pd->kind == PARAM_CHOICE) {
		size_t used = 0;
		buf[0] = '\0';
		for (unsigned i = 0; pd->choices[i] != NULL && used < size; i++)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
			    i ? "|" : "", pd->choices[i]);
	} else {
		snprintf(buf, size, "%g..%g%s%s", pd->min, pd->max,
		    pd->unit[0] ? " " : "", pd->unit);
	}
}

/* A parameter's default as it is written in a patch, into buf. */
static void
param_default(const struct param_desc *pd, char *buf, size_t size)
{
	if (pd->kind == PARAM_TEXT)
		snprintf(buf, size, "none");
	else if (pd->kind == PARAM_CHOICE)
		snprintf(buf, size, "%s", pd->choices[(int)pd->def]);
	else
		snprintf(buf, size, "%g", pd->def);
}

/* --list-modules: every type from the registry, readable in a terminal. */
static void
list_modules(void)
{
	char range[128], def[64];
	for (unsigned i = 0; module_table[i] != NULL; i++) {
		const struct module_type *t = module_table[i];
		printf("%s: %s\n", t->name, t->help);
		for (unsigned k = 0; k < t->n_inputs; k++)
			printf("  %-7s %-10s %s\n", k ? "" : "inputs", t->inputs[k].name,
			    t->inputs[k].help);
		for (unsigned k = 0; k < t->n_outputs; k++)
			printf("  %-7s %-10s %s\n", k ? "" : "outputs",
			    t->outputs[k].name, t->outputs[k].help);
		for (unsigned k = 0; k < t->n_params; k++) {
			const struct param_desc *pd = &t->params[k];
			param_range(pd, range, sizeof range);
			param_default(pd, def, sizeof def);
			printf("  %-7s %-10s %s (%s, default %s)\n",
			    k ? "" : "params", pd->name, pd->help, range, def);
		}
		printf("\n");
	}
}

/* Print a string with roff's special characters escaped. */
static void
roff_puts(const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", stdout);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", stdout);
		else if (*s == '-')
			fputs("\\-", stdout);
		else
			putchar(*s);
	}
}

/* --man-modules: the same reference as roff, for the man page. */
static void
man_modules(void)
{
	char range[128], def[64];
	for (unsigned i = 0; module_table[i] != NULL; i++) {
		const struct module_type *t = module_table[i];
		printf(".SS %s\n", t->name);
		roff_puts(t->help);
		printf("\n.PP\n");
		for (unsigned k = 0; k < t->n_inputs; k++) {
			printf(".TP\n.B in %s\n", t->inputs[k].name);
			roff_puts(t->inputs[k].help);
			printf("\n");
		}
		for (unsigned k = 0; k < t->n_outputs; k++) {
			printf(".TP\n.B out %s\n", t->outputs[k].name);
			roff_puts(t->outputs[k].help);
			printf("\n");
		}
		for (unsigned k = 0; k < t->n_params; k++) {
			const struct param_desc *pd = &t->params[k];
			param_range(pd, range, sizeof range);
			param_default(pd, def, sizeof def);
			printf(".TP\n.BI \"%s=\" value\n", pd->name);
			roff_puts(pd->help);
			printf(" (");
			roff_puts(range);
			printf(", default ");
			roff_puts(def);
			printf(")\n");
		}
	}
}

/* Load the patch named on the command line, or the built-in one; returns
 * its text (free it), whose layout saving keeps. */
static char *
load_patch(struct patch *p, const char *path)
{
	struct patch_error err = { 0 };
	char msg[512], *text = NULL;
	int rc = path != NULL ?
	    cmd_read_file(path, PATCHFILE_TEXT_MAX, &text, &err) : 0;
	if (rc == 0) {
		if (text == NULL)
			text = xstrdup(builtin_patch);
		rc = patch_load_text(p, text, path ? path : "built-in patch", &err);
	}
	if (rc != 0) {
		patch_error_format(&err, msg, sizeof msg);
		fatal("%s", msg);
	}
	return text;
}

/* Load the score file, or the built-in phrase. */
static void
load_score(struct score *s, const char *path)
{
	struct patch_error err = { 0 };
	char msg[512];
	int rc = path != NULL ? score_load_file(s, path, &err)
	    : score_load_text(s, builtin_score, "built-in score", &err);
	if (rc != 0) {
		patch_error_format(&err, msg, sizeof msg);
		fatal("%s", msg);
	}
}

int
main(int argc, char **argv)
{
	struct options o;
	static struct patch patch;
	struct score score = { 0 };

	if (argc > 1 && strcmp(argv[1], "--dsp-child") == 0)
		return child_main(argc, argv);
	options_parse(&o, argc, argv);
	if (o.list_modules) {
		list_modules();
		return 0;
	}
	if (o.man_modules) {
		man_modules();
		return 0;
	}
	patch_init(&patch, o.inputs, o.outputs);
	if (o.check_path != NULL) {
		free(load_patch(&patch, o.check_path));
		printf("%s: ok (%u modules, %u connections, %u voices)\n",
		    o.check_path, patch.n_modules, patch.n_connections, patch.poly);
		return 0;
	}
	char *patch_text = load_patch(&patch, o.patch_path);
	if (o.channel >= 0)
		patch.channel = (unsigned)o.channel;
	load_score(&score, o.score_path);

	struct render_options ro = {
		.path = o.render_path,
		.format = o.format,
		.seconds = o.seconds,
		.rate = o.rate,
		.block = o.block,
		.overwrite = o.force,
		.progress = isatty(STDERR_FILENO),
		.score_name = o.score_path != NULL ? o.score_path : "built-in score",
		.threads = o.threads,
		.no_fork = o.no_fork,
		.hot = o.hot,
		.no_clip = o.no_clip,
	};
	if (ro.path == NULL) {
		struct live_options lo = {
			.jack = {
				.name = o.name, .n_inputs = o.inputs, .n_outputs = o.outputs,
				.connect = o.connect, .start_server = !o.no_start_server,
				.pipeline = o.pipeline, .deadline = o.deadline,
			},
			.threads = o.threads, .no_fork = o.no_fork, .hot = o.hot,
			.no_clip = o.no_clip,
			.patch_name = o.patch_path ? o.patch_path : "the built-in patch",
			.patch_path = o.patch_path,
			.patch_text = patch_text,
			/* the screen needs a terminal we own: started with & it
			 * would be stopped by the terminal at its first output */
			.ui = !o.no_ui && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
			    tcgetpgrp(STDIN_FILENO) == getpgrp(),
			.record_path = o.record_path, .record_dir = o.record_dir,
			.record_format = o.format, .force = o.force,
			.no_mouse = o.no_mouse,
			.n_record_ports = o.n_record_ports,
		};
		memcpy(lo.record_ports, o.record_ports, sizeof lo.record_ports);
		const char *nsm_url = getenv("NSM_URL");
		char err[1500];
		if (nsm_url != NULL && nsm_url[0] != '\0') {
			/* the session manager names us and keeps the patch; no
			 * terminal of ours under it */
			lo.nsm = nsm_start(nsm_url, argv[0], 20, err, sizeof err);
			if (lo.nsm == NULL)
				fatal("%s", err);
			if (strcmp(o.name, "forksynth") != 0)
				info("NSM: the JACK client is named '%s' by the session, "
				    "not --name %s", nsm_client_id(lo.nsm), o.name);
			char *session_text = NULL;
			if (nsm_load_patch(lo.nsm, &patch, patch_text, &session_text, err,
			    sizeof err) != 0) {
				nsm_close(lo.nsm);
				fatal("NSM: %s", err);
			}
			free(patch_text);
			patch_text = session_text;
			lo.jack.name = nsm_client_id(lo.nsm);
			lo.patch_path = lo.patch_name = nsm_patch_path(lo.nsm);
			lo.patch_text = patch_text;
			lo.ui = 0;
		}
		if (o.osc_port != NULL) {
			lo.osc = osc_open(o.osc_port, o.osc_any, err, sizeof err);
			if (lo.osc == NULL) {
				if (lo.nsm != NULL)
					nsm_opened(lo.nsm, 0, err);
				fatal("%s", err);
			}
			info("OSC on osc.udp://%s:%u/ (/forksynth/cmd s, /forksynth/set "
			    "s f, /forksynth/note i i f)", o.osc_any ? "0.0.0.0" :
			    "127.0.0.1", osc_port(lo.osc));
			if (o.osc_any)
				warn("--osc-any: anyone who can reach this machine's UDP "
				    "port %u can change and play this patch", osc_port(lo.osc));
		}
		for (unsigned i = 0; i < o.n_record_ports; i++)
			if (o.record_ports[i] >= o.outputs)
				fatal("--record-ports: there is no output %u (--outputs %u)",
				    o.record_ports[i] + 1, o.outputs);
		score_free(&score);
		/* C-z in a terminal stops a stand-in, not the JACK client */
		if (isatty(STDIN_FILENO))
			standin_start();
		int live_rc = lo.ui ? ui_run(&lo, &patch) : live_run(&lo, &patch);
		osc_close(lo.osc);
		nsm_close(lo.nsm);
		free(patch_text);
		if (jackio_stuck()) {
			/* everything is saved and closed but libjack, whose
			 * exit handlers could wait on its stuck lock */
			fflush(NULL);
			_exit(live_rc);
		}
		return live_rc;
	}
	free(patch_text);
	int rc = render_run(&patch, &score, &ro);
	if (rc == 0 && !ro.progress)
		info("wrote %s (%lu frames, %u Hz, %u channels)", ro.path,
		    render_frames(&score, &ro), ro.rate, patch.n_outputs);
	score_free(&score);
	return rc == 0 ? 0 : 1;
}
