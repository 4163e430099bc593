/*
 * dsp/irfile.c — impulse responses from files: checked with libsndfile,
 * read, split into channels, resampled with libsamplerate's best sinc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <samplerate.h>
#include <sndfile.h>

#include "irfile.h"

double
ir_max_seconds(void)
{
	const char *s = getenv("FORKSYNTH_MAX_IR_SECONDS");
	double v = s != NULL ? strtod(s, NULL) : 0;
	return v > 0 ? v : 30.0;
}

/* Open `path` for reading and check what ir_check promises. */
static SNDFILE *
ir_open(const char *path, SF_INFO *info, char *err, size_t err_size)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, err_size, "%s: %s (give the path of an audio file)",
		    path, strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "%s: is a directory, not an impulse response",
		    path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		/* a pipe or a device would block the loader or never end */
		snprintf(err, err_size, "%s: not a regular file (a pipe or a "
		    "device); give the path of an audio file", path);
		return NULL;
	}
	memset(info, 0, sizeof *info);
	SNDFILE *f = sf_open(path, SFM_READ, info);
	if (f == NULL) {
		snprintf(err, err_size, "%s: not an audio file libsndfile can read "
		    "(%s)", path, sf_strerror(NULL));
		return NULL;
	}
	if (info->frames <= 0) {
		snprintf(err, err_size, "%s: the impulse response is empty", path);
		sf_close(f);
		return NULL;
	}
	if (info->channels != 1 && info->channels != 2 && info->channels != 4) {
		snprintf(err, err_size, "%s: %d channels; an impulse response has 1 "
		    "(mono), 2 (stereo) or 4 (true stereo)", path, info->channels);
		sf_close(f);
		return NULL;
	}
	/* the header's figures decide how much is read: bound them */
	if (info->samplerate < 1000 || info->samplerate > 768000) {
		snprintf(err, err_size, "%s: a sample rate of %d Hz; an impulse "
		    "response needs 1 kHz to 768 kHz", path, info->samplerate);
		sf_close(f);
		return NULL;
	}
	double seconds = (double)info->frames / info->samplerate;
	if (seconds > ir_max_seconds()) {
		snprintf(err, err_size, "%s: %.1f s long, more than the %.0f s allowed "
		    "(--max-ir-seconds)", path, seconds, ir_max_seconds());
		sf_close(f);
		return NULL;
	}
	return f;
}

int
ir_check(const char *path, char *err, size_t err_size)
{
	SF_INFO info;
	SNDFILE *f = ir_open(path, &info, err, err_size);
	if (f == NULL)
		return -1;
	sf_close(f);
	return 0;
}

void
ir_data_free(float **data, unsigned channels)
{
	if (data == NULL)
		return;
	for (unsigned c = 0; c < channels; c++)
		free(data[c]);
	free(data);
}

int
ir_read(const char *path, double rate, float ***data, unsigned *channels,
    size_t *frames, char *err, size_t err_size)
{
	SF_INFO info;
	SNDFILE *f = ir_open(path, &info, err, err_size);
	if (f == NULL)
		return -1;
	size_t n = (size_t)info.frames, ch = (size_t)info.channels;
	float *inter = malloc(n * ch * sizeof(float));
	if (inter == NULL) {
		snprintf(err, err_size, "%s: out of memory", path);
		sf_close(f);
		return -1;
	}
	sf_count_t got = sf_readf_float(f, inter, (sf_count_t)n);
	sf_close(f);
	if (got <= 0) {
		snprintf(err, err_size, "%s: could not read the samples", path);
		free(inter);
		return -1;
	}
	n = (size_t)got;
	if (info.samplerate != (int)rate) {
		/* resample all channels at once */
		double ratio = rate / info.samplerate;
		size_t out_n = (size_t)((double)n * ratio) + 16;
		float *out = calloc(out_n * ch, sizeof(float));
		SRC_DATA src = {
			.data_in = inter, .input_frames = (long)n,
			.data_out = out, .output_frames = (long)out_n,
			.src_ratio = ratio,
		};
		int rc = out != NULL ? src_simple(&src, SRC_SINC_BEST_QUALITY, (int)ch) : -1;
		if (rc != 0) {
			snprintf(err, err_size, "%s: resampling from %d Hz failed: %s",
			    path, info.samplerate, rc > 0 ? src_strerror(rc) : "no memory");
			free(out);
			free(inter);
			return -1;
		}
		free(inter);
		inter = out;
		n = (size_t)src.output_frames_gen;
		if (n == 0)
			n = 1;
	}
	float **planar = calloc(ch, sizeof *planar);
	for (size_t c = 0; planar != NULL && c < ch; c++) {
		planar[c] = malloc(n * sizeof(float));
		if (planar[c] == NULL) {
			ir_data_free(planar, (unsigned)c);
			planar = NULL;
			break;
		}
		for (size_t i = 0; i < n; i++)
			planar[c][i] = inter[i * ch + c];
	}
	free(inter);
	if (planar == NULL) {
		snprintf(err, err_size, "%s: out of memory", path);
		return -1;
	}
	*data = planar;
	*channels = (unsigned)ch;
	*frames = n;
	return 0;
}
