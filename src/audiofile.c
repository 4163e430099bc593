/*
 * src/audiofile.c — libsndfile writer with the format taken from the file
 * name, used by offline render (and later by the recorder).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sndfile.h>

#include "audiofile.h"
#include "log.h"

struct audiofile {
	SNDFILE *sf;
	char *path;
	unsigned channels;
	size_t frames;
};

/* Extension → libsndfile format with the sample encoding we write. */
static const struct {
	const char *ext;
	int format;
} formats[] = {
	{ "wav",  SF_FORMAT_WAV  | SF_FORMAT_FLOAT },
	{ "w64",  SF_FORMAT_W64  | SF_FORMAT_FLOAT },
	{ "rf64", SF_FORMAT_RF64 | SF_FORMAT_FLOAT },
	{ "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24 },
	{ "ogg",  SF_FORMAT_OGG  | SF_FORMAT_VORBIS },
	{ "oga",  SF_FORMAT_OGG  | SF_FORMAT_VORBIS },
	{ "aiff", SF_FORMAT_AIFF | SF_FORMAT_FLOAT },
	{ "aif",  SF_FORMAT_AIFF | SF_FORMAT_FLOAT },
	{ "au",   SF_FORMAT_AU   | SF_FORMAT_FLOAT },
	{ "caf",  SF_FORMAT_CAF  | SF_FORMAT_FLOAT },
};

int
audiofile_format_for(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot == NULL || strchr(dot, '/') != NULL)
		return 0;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcasecmp(dot + 1, formats[i].ext) == 0)
			return formats[i].format;
	return 0;
}

struct audiofile *
audiofile_create(const char *path, unsigned rate, unsigned channels,
    int overwrite, char *err, size_t err_size)
{
	SF_INFO info = { .samplerate = (int)rate, .channels = (int)channels };

	info.format = audiofile_format_for(path);
	if (info.format == 0) {
		snprintf(err, err_size, "%s: unknown audio file type (use .wav, "
		    ".flac, .ogg, .aiff, .au, .caf, .w64 or .rf64)", path);
		return NULL;
	}
	if (!sf_format_check(&info)) {
		snprintf(err, err_size, "%s: libsndfile cannot write this format "
		    "with %u channels at %u Hz", path, channels, rate);
		return NULL;
	}
	/* create the file ourselves: private mode, and no silent overwrite */
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, err_size, "%s: file exists (use --force to "
			    "replace it)", path);
		else
			snprintf(err, err_size, "%s: cannot create: %s", path,
			    strerror(errno));
		return NULL;
	}
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (sf == NULL) {
		snprintf(err, err_size, "%s: %s", path, sf_strerror(NULL));
		close(fd);
		return NULL;
	}
	/* the PEAK chunk carries a timestamp: leave it out so that equal
	 * renders are equal files */
	sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
	struct audiofile *f = xcalloc(1, sizeof *f);
	f->sf = sf;
	f->path = xstrdup(path);
	f->channels = channels;
	return f;
}

int
audiofile_write(struct audiofile *f, const float *interleaved, size_t frames,
    char *err, size_t err_size)
{
	sf_count_t n = sf_writef_float(f->sf, interleaved, (sf_count_t)frames);
	if (n > 0)
		f->frames += (size_t)n;
	if (n != (sf_count_t)frames) {
		snprintf(err, err_size, "%s: write failed after %zu frames: %s",
		    f->path, f->frames, sf_strerror(f->sf));
		return -1;
	}
	return 0;
}

size_t
audiofile_frames(const struct audiofile *f)
{
	return f->frames;
}

int
audiofile_close(struct audiofile *f, char *err, size_t err_size)
{
	int rc = 0;
	if (f == NULL)
		return 0;
	if (sf_close(f->sf) != 0) {
		snprintf(err, err_size, "%s: closing failed: %s", f->path,
		    sf_strerror(NULL));
		rc = -1;
	}
	free(f->path);
	free(f);
	return rc;
}
