/*
 * src/audiofile.c — the libsndfile writer: one table of formats (name,
 * extension, encoding), private file creation, TPDF dither for 16-bit PCM,
 * header updates on demand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
	int dither;             /* add TPDF dither of one 16-bit step */
	uint64_t rng;
	float *scratch;         /* dithered copy */
	size_t scratch_frames;
};

/* Every format we write: --format name, file extension, encoding. */
static const struct format {
	const char *name;
	const char *ext;        /* NULL: only by name */
	int sf;
	int dither;
	const char *help;
} formats[] = {
	{ "wav",   "wav",  SF_FORMAT_RF64 | SF_FORMAT_FLOAT,  0, "WAV, 32-bit float (RF64 past 4 GiB)" },
	{ "wav24", NULL,   SF_FORMAT_RF64 | SF_FORMAT_PCM_24, 0, "WAV, 24-bit PCM (RF64 past 4 GiB)" },
	{ "wav16", NULL,   SF_FORMAT_RF64 | SF_FORMAT_PCM_16, 1, "WAV, 16-bit PCM with TPDF dither (RF64 past 4 GiB)" },
	{ "flac",  "flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 0, "FLAC, 24-bit" },
	{ "ogg",   "ogg",  SF_FORMAT_OGG  | SF_FORMAT_VORBIS, 0, "Ogg Vorbis" },
	{ "oga",   "oga",  SF_FORMAT_OGG  | SF_FORMAT_VORBIS, 0, "Ogg Vorbis" },
	{ "aiff",  "aiff", SF_FORMAT_AIFF | SF_FORMAT_FLOAT,  0, "AIFF, 32-bit float" },
	{ "aif",   "aif",  SF_FORMAT_AIFF | SF_FORMAT_FLOAT,  0, "AIFF, 32-bit float" },
	{ "au",    "au",   SF_FORMAT_AU   | SF_FORMAT_FLOAT,  0, "Sun AU, 32-bit float" },
	{ "caf",   "caf",  SF_FORMAT_CAF  | SF_FORMAT_FLOAT,  0, "Core Audio, 32-bit float" },
	{ "w64",   "w64",  SF_FORMAT_W64  | SF_FORMAT_FLOAT,  0, "Sony Wave64, 32-bit float" },
	{ "rf64",  "rf64", SF_FORMAT_RF64 | SF_FORMAT_FLOAT,  0, "RF64, 32-bit float" },
};

/* The format called `format`, or by the extension of `path`. */
static const struct format *
format_find(const char *path, const char *format)
{
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		if (format != NULL) {
			if (strcasecmp(format, formats[i].name) == 0)
				return &formats[i];
		} else if (dot != NULL && strchr(dot, '/') == NULL &&
		    formats[i].ext != NULL && strcasecmp(dot + 1, formats[i].ext) == 0) {
			return &formats[i];
		}
	}
	return NULL;
}

int
audiofile_known(const char *path, const char *format)
{
	return format_find(path, format) != NULL;
}

void
audiofile_formats(FILE *out)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		fprintf(out, "  %-6s %s\n", formats[i].name, formats[i].help);
}

struct audiofile *
audiofile_create(const char *path, const char *format, unsigned rate,
    unsigned channels, unsigned long long frames, int overwrite, char *err,
    size_t err_size)
{
	const struct format *fmt = format_find(path, format);
	SF_INFO info = { .samplerate = (int)rate, .channels = (int)channels };

	if (fmt == NULL) {
		if (format != NULL)
			snprintf(err, err_size, "%s: unknown format '%s' (wav, wav24, "
			    "wav16, flac, ogg, aiff, au, caf, w64, rf64)", path, format);
		else
			snprintf(err, err_size, "%s: unknown audio file type (use .wav, "
			    ".flac, .ogg, .aiff, .au, .caf, .w64 or .rf64, or --format)", path);
		return NULL;
	}
	info.format = fmt->sf;
	int wav_sized = fmt->ext == NULL || strcmp(fmt->ext, "wav") == 0;
	int small = frames > 0 && frames * channels * 4ull < 0xF0000000ull;
	if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64 && wav_sized && small)
		info.format = SF_FORMAT_WAV | (info.format & SF_FORMAT_SUBMASK);
	if (!sf_format_check(&info)) {
		snprintf(err, err_size, "%s: libsndfile cannot write %s with %u "
		    "channels at %u Hz", path, fmt->name, channels, rate);
		return NULL;
	}
	/* create the file ourselves: private mode, no silent overwrite, and
	 * never through a symbolic link (one planted in a shared directory
	 * would make --force clobber its target) */
	int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    (overwrite ? O_TRUNC : O_EXCL);
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, err_size, "%s: file exists (use --force to "
			    "replace it)", path);
		else if (errno == ELOOP)
			snprintf(err, err_size, "%s: is a symbolic link; give the "
			    "file itself", path);
		else
			snprintf(err, err_size, "%s: cannot create: %s", path,
			    strerror(errno));
		return NULL;
	}
	SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
	if (sf == NULL) {
		snprintf(err, err_size, "%s: %s", path, sf_strerror(NULL));
		close(fd);
		unlink(path);
		return NULL;
	}
	/* the PEAK chunk carries a timestamp: leave it out so that equal
	 * renders are equal files */
	sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
	/* RF64 only when the data passes 4 GiB; a plain WAV otherwise */
	if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64 && wav_sized)
		sf_command(sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
	sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	struct audiofile *f = xcalloc(1, sizeof *f);
	f->sf = sf;
	f->path = xstrdup(path);
	f->channels = channels;
	f->dither = fmt->dither;
	f->rng = 0x853c49e6748fea9bull;
	return f;
}

/* A uniform random number in [-0.5, 0.5) (xorshift64*). */
static float
uniform(struct audiofile *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	uint64_t x = f->rng * 2685821657736338717ull;
	return (float)(x >> 40) / 16777216.0f - 0.5f;
}

int
audiofile_write(struct audiofile *f, const float *interleaved, size_t frames,
    char *err, size_t err_size)
{
	const float *src = interleaved;
	if (f->dither) {
		/* triangular (TPDF) dither of one 16-bit step before rounding */
		size_t n = frames * f->channels;
		if (f->scratch_frames < frames) {
			free(f->scratch);
			f->scratch = xmalloc(n * sizeof(float));
			f->scratch_frames = frames;
		}
		for (size_t i = 0; i < n; i++)
			f->scratch[i] = interleaved[i] +
			    (uniform(f) + uniform(f)) * (1.0f / 32768.0f);
		src = f->scratch;
	}
	sf_count_t n = sf_writef_float(f->sf, src, (sf_count_t)frames);
	if (n > 0)
		f->frames += (size_t)n;
	if (n != (sf_count_t)frames) {
		const char *why = sf_strerror(f->sf);
		snprintf(err, err_size, "%s: write failed after %zu frames: %s%s",
		    f->path, f->frames, why,
		    errno == ENOSPC ? " (the disk is full)" : "");
		return -1;
	}
	return 0;
}

int
audiofile_sync(struct audiofile *f, char *err, size_t err_size)
{
	sf_command(f->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	if (sf_error(f->sf) != SF_ERR_NO_ERROR) {
		snprintf(err, err_size, "%s: updating the header failed: %s", f->path,
		    sf_strerror(f->sf));
		return -1;
	}
	return 0;
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
	free(f->scratch);
	free(f->path);
	free(f);
	return rc;
}
