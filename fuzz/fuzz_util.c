/*
 * fuzz/fuzz_util.c — what the fuzz targets share: raw bytes to text with a
 * directory of impulse responses for file parameters, loud failure with the
 * input, error positions, and the save/reload round trip of a patch.
 */
#define _GNU_SOURCE  /* open_memstream() */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "fuzz.h"
#include "log.h"

/* The files made in the impulse-response directory: name, channels and
 * frames (0 channels: a text file, not audio). */
static const struct {
	const char *name;
	int channels, frames;
} ir_files[] = {
	{ "room.wav", 1, 64 },
	{ "q \"uote\" #hash\\\"back\\\\slash\ttab=x.wav", 2, 32 },
	{ "ends-in-backslash\\", 1, 8 },
	{ "empty.wav", 1, 0 },
	{ "three.wav", 3, 16 },
	{ "not-audio.txt", 0, 0 },
};

/* The directory irs_dir made, or "" before. */
static char ir_dir[256];

/* Remove the impulse-response directory at exit. */
static void
irs_remove(void)
{
	char path[512];

	for (size_t i = 0; i < sizeof ir_files / sizeof ir_files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", ir_dir, ir_files[i].name);
		unlink(path);
	}
	rmdir(ir_dir);
}

/* Write one file of the directory: a short decaying click, or text. */
static void
irs_write(const char *path, int channels, int frames)
{
	if (channels == 0) {
		FILE *f = fopen(path, "w");
		if (f == NULL || fputs("poly 2\n", f) < 0 || fclose(f) != 0)
			fatal("fuzz: cannot write %s", path);
		return;
	}
	SF_INFO info = { .samplerate = 48000, .channels = channels,
	    .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	if (f == NULL)
		fatal("fuzz: cannot write %s: %s", path, sf_strerror(NULL));
	float frame[4] = { 0 };
	for (int i = 0; i < frames; i++) {
		for (int c = 0; c < channels; c++)
			frame[c] = (i == 0 ? 1.0f : 0.5f) / (float)(i + 1);
		sf_writef_float(f, frame, 1);
	}
	sf_close(f);
}

/* Make the impulse-response directory once per process. */
static const char *
irs_dir(void)
{
	char path[512];

	if (ir_dir[0] != '\0')
		return ir_dir;
	const char *tmp = getenv("TMPDIR");
	snprintf(ir_dir, sizeof ir_dir, "%s/forksynth-fuzz.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(ir_dir) == NULL)
		fatal("fuzz: cannot make %s", ir_dir);
	atexit(irs_remove);
	for (size_t i = 0; i < sizeof ir_files / sizeof ir_files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", ir_dir, ir_files[i].name);
		irs_write(path, ir_files[i].channels, ir_files[i].frames);
	}
	return ir_dir;
}

/* The input up to its first NUL, with the placeholder expanded. */
char *
fuzz_text(const uint8_t *data, size_t size)
{
	const char *dir = irs_dir();
	size_t len = strnlen((const char *)data, size), n = 0;
	const size_t key = strlen(FUZZ_IR_DIR), dlen = strlen(dir);

	char *raw = xmalloc(len + 1);
	memcpy(raw, data, len);
	raw[len] = '\0';
	for (const char *s = raw; (s = strstr(s, FUZZ_IR_DIR)) != NULL; s += key)
		n++;
	char *text = xmalloc(len + n * dlen + 1), *w = text;
	for (const char *s = raw, *hit; ; s = hit + key) {
		hit = strstr(s, FUZZ_IR_DIR);
		size_t k = hit != NULL ? (size_t)(hit - s) : strlen(s);
		memcpy(w, s, k);
		w += k;
		if (hit == NULL)
			break;
		memcpy(w, dir, dlen);
		w += dlen;
	}
	*w = '\0';
	free(raw);
	return text;
}

/* Report a finding with the input that caused it, and abort. */
void
fuzz_fail(const char *text, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "finding: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n---- input ----\n%s\n---- end ----\n", text);
	abort();
}

/* Find line n (from 1) of the text. */
const char *
fuzz_line(const char *text, unsigned n, size_t *len)
{
	const char *s = text;

	if (n == 0)
		return NULL;
	for (; n > 1; n--) {
		s = strchr(s, '\n');
		if (s == NULL)
			return NULL;
		s++;
	}
	*len = strcspn(s, "\n");
	return s;
}

/* Check where an error points. */
void
fuzz_check_error(const char *text, const struct patch_error *err,
    const char *what)
{
	size_t len = 0;
	char buf[600];

	patch_error_format(err, buf, sizeof buf);
	if (err->message[0] == '\0' || strstr(buf, err->message) == NULL)
		fuzz_fail(text, "%s: an error without a message: '%s'", what, buf);
	if (fuzz_line(text, err->line, &len) == NULL)
		fuzz_fail(text, "%s: error at line %u, not in the text: %s", what,
		    err->line, err->message);
	if (err->column < 1 || err->column > len + 1)
		fuzz_fail(text, "%s: error at %u:%u, outside the line of %zu "
		    "bytes: %s", what, err->line, err->column, len, err->message);
}

/* Save a patch into a new string; aborts when saving fails. */
static char *
roundtrip_save(const struct patch *p, const char *text)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		fatal("fuzz: open_memstream failed");
	if (patch_save(p, f) != 0)
		fuzz_fail(text, "patch_save failed");
	fclose(f);
	return buf;
}

/* Saved, reloaded and saved again: the same patch, the same text. */
void
fuzz_roundtrip(const struct patch *p, const char *text)
{
	static struct patch again;
	struct patch_error err;
	char msg[512];

	char *one = roundtrip_save(p, text);
	patch_init(&again, p->n_inputs, p->n_outputs);
	if (patch_load_text(&again, one, "saved", &err) != 0) {
		patch_error_format(&err, msg, sizeof msg);
		fuzz_fail(text, "the saved patch does not load: %s\n---- saved "
		    "----\n%s", msg, one);
	}
	if (!patch_equal(p, &again))
		fuzz_fail(text, "the reloaded patch differs from the one saved"
		    "\n---- saved ----\n%s", one);
	char *two = roundtrip_save(&again, text);
	if (strcmp(one, two) != 0)
		fuzz_fail(text, "saving the reloaded patch gives other text\n"
		    "---- first ----\n%s---- second ----\n%s", one, two);
	free(two);
	free(one);
}
