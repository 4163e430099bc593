/*
 * src/audiofile.c — the libsndfile writer: one table of formats (name,
 * extension, encoding), safe output files (a new file created exclusively
 * and private; an existing one replaced only through a temporary file in
 * its directory renamed over it; devices, FIFOs, sockets and directories
 * refused; only what this file created is ever removed; `-` for stdout),
 * TPDF dither for 16-bit PCM, header updates on demand.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "audiofile.h"
#include "log.h"

struct audiofile {
	SNDFILE *sf;
	char *path;
	char *tmp;              /* the file written, to be renamed onto path;
	                           NULL once renamed or when writing path */
	int created;            /* path is a new file made here */
	dev_t dev;              /* the file written: what may be removed */
	ino_t ino;
	int to_stdout;          /* path "-": fd holds an unlinked file that is
	                           copied to stdout at the end */
	int fd;
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
	if (format == NULL && strcmp(path, "-") == 0)
		format = "wav";    /* standard output has no extension */
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

/* The message that refuses a path that is not a regular file. */
static void
refuse_kind(const char *path, mode_t mode, char *err, size_t err_size)
{
	snprintf(err, err_size, "%s: is %s; audio is written only to regular "
	    "files, and --force does not change that (give a file name%s)", path,
	    file_kind_name(mode), S_ISCHR(mode) || S_ISFIFO(mode) ?
	    ", or - for standard output with --render" : "");
}

/* Remember which file fd is: the only one remove_ours may remove. */
static void
note_identity(struct audiofile *f, int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
	}
}

/* Remove the file this writer created (the temporary file, or a new
 * path), if the name still names it: never anything else. */
static void
remove_ours(struct audiofile *f)
{
	struct stat st;
	const char *name = f->tmp != NULL ? f->tmp : f->created ? f->path : NULL;
	if (name != NULL && lstat(name, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_dev == f->dev && st.st_ino == f->ino)
		unlink(name);
}

/* An unlinked private file for `-`: in $TMPDIR or /tmp. */
static int
open_stdout_spool(char *err, size_t err_size)
{
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if (isatty(STDOUT_FILENO)) {
		snprintf(err, err_size, "-: standard output is a terminal; pipe it "
		    "(forksynth --render - | sox -t wav - ...) or give a file name");
		return -1;
	}
	int fd = open(dir, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0) {
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s/forksynth-render.XXXXXX", dir);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmp);
	}
	if (fd < 0)
		snprintf(err, err_size, "-: cannot make a temporary file in %s: %s",
		    dir, strerror(errno));
	return fd;
}

/*
 * Open what f->path asks for: a new file, created exclusively, private and
 * never through a symbolic link (one planted in a shared directory would
 * make --force clobber its target); with `overwrite`, a temporary file
 * next to an existing regular file, which replaces it only when the
 * writing succeeded; `-`, a spool for stdout.  Anything else is refused
 * with a message.  Returns the fd, or -1.
 */
static int
open_output(struct audiofile *f, int overwrite, char *err, size_t err_size)
{
	const char *path = f->path;
	struct stat st;

	if (strcmp(path, "-") == 0) {
		f->to_stdout = 1;
		return open_stdout_spool(err, err_size);
	}
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			snprintf(err, err_size, "%s: is a symbolic link; give the "
			    "file itself", path);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			refuse_kind(path, st.st_mode, err, err_size);
			return -1;
		}
		if (!overwrite) {
			snprintf(err, err_size, "%s: file exists (use --force to "
			    "replace it)", path);
			return -1;
		}
		const char *slash = strrchr(path, '/');
		size_t dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
		size_t size = strlen(path) + 16;
		f->tmp = xmalloc(size);
		snprintf(f->tmp, size, "%.*s.%s.XXXXXX", (int)dirlen, path,
		    path + dirlen);
		int fd = mkostemp(f->tmp, O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, err_size, "%s: cannot make the file that replaces "
			    "it in its directory: %s; the file is unchanged", path,
			    strerror(errno));
			free(f->tmp);
			f->tmp = NULL;
			return -1;
		}
		fchmod(fd, st.st_mode & 0777);
		note_identity(f, fd);
		return fd;
	}
	if (errno != ENOENT) {
		snprintf(err, err_size, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, err_size, "%s: file exists (use --force to "
			    "replace it)", path);
		else
			snprintf(err, err_size, "%s: cannot create: %s", path,
			    strerror(errno));
		return -1;
	}
	f->created = 1;
	note_identity(f, fd);
	return fd;
}

struct audiofile *
audiofile_create(const char *path, const char *format, unsigned rate,
    unsigned channels, unsigned long long frames, int overwrite, char *err,
    size_t err_size)
{
	const struct format *fmt = format_find(path, format);
	SF_INFO info = { .samplerate = (int)rate, .channels = (int)channels };
	struct stat st;

	/* what the path is comes before what its name says */
	if (strcmp(path, "-") != 0 && lstat(path, &st) == 0 &&
	    !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		refuse_kind(path, st.st_mode, err, err_size);
		return NULL;
	}

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
	struct audiofile *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	f->fd = open_output(f, overwrite, err, err_size);
	if (f->fd < 0) {
		free(f->path);
		free(f);
		return NULL;
	}
	SNDFILE *sf = sf_open_fd(f->fd, SFM_WRITE, &info, SF_FALSE);
	if (sf == NULL) {
		snprintf(err, err_size, "%s: %s", path, sf_strerror(NULL));
		remove_ours(f);
		close(f->fd);
		free(f->tmp);
		free(f->path);
		free(f);
		return NULL;
	}
	/* the PEAK chunk carries a timestamp: leave it out so that equal
	 * renders are equal files */
	sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
	/* RF64 only when the data passes 4 GiB; a plain WAV otherwise */
	if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64 && wav_sized)
		sf_command(sf, SFC_RF64_AUTO_DOWNGRADE, NULL, SF_TRUE);
	sf_command(sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	f->sf = sf;
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
audiofile_commit(struct audiofile *f, char *err, size_t err_size)
{
	struct stat st;
	if (f->tmp == NULL)
		return 0;
	/* the old file may have been replaced meanwhile: only a regular
	 * file is ever renamed over */
	if (lstat(f->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s: is now %s; not replaced", f->path,
		    file_kind_name(st.st_mode));
		return -1;
	}
	if (rename(f->tmp, f->path) != 0) {
		snprintf(err, err_size, "%s: cannot replace it: %s", f->path,
		    strerror(errno));
		return -1;
	}
	free(f->tmp);
	f->tmp = NULL;
	f->created = 1;
	return 0;
}

/* Copy the spool of `-` to stdout. */
static int
copy_to_stdout(struct audiofile *f, char *err, size_t err_size)
{
	char buf[65536];
	if (lseek(f->fd, 0, SEEK_SET) != 0) {
		snprintf(err, err_size, "-: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(f->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				return 0;
			snprintf(err, err_size, "-: reading back: %s", strerror(errno));
			return -1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t k = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				snprintf(err, err_size, "-: writing standard output: %s",
				    strerror(errno));
				return -1;
			}
			off += k;
		}
	}
}

/* Finish the file; with `keep` put it in place, else remove what this
 * writer made.  Frees f. */
static int
finish(struct audiofile *f, int keep, char *err, size_t err_size)
{
	int rc = 0;
	if (sf_close(f->sf) != 0) {
		snprintf(err, err_size, "%s: closing failed: %s", f->path,
		    sf_strerror(NULL));
		rc = -1;
	}
	if (rc == 0 && keep && f->tmp != NULL && fsync(f->fd) != 0) {
		snprintf(err, err_size, "%s: %s", f->path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && keep && f->to_stdout)
		rc = copy_to_stdout(f, err, err_size);
	if (rc == 0 && keep)
		rc = audiofile_commit(f, err, err_size);
	if (rc != 0 || !keep)
		remove_ours(f);
	if (rc != 0 && f->tmp != NULL) {
		size_t n = strlen(err);
		snprintf(err + n, err_size - n, "; the old file is unchanged");
	}
	close(f->fd);
	free(f->scratch);
	free(f->tmp);
	free(f->path);
	free(f);
	return rc;
}

int
audiofile_close(struct audiofile *f, char *err, size_t err_size)
{
	if (f == NULL)
		return 0;
	return finish(f, 1, err, err_size);
}

void
audiofile_abandon(struct audiofile *f)
{
	char err[512];
	if (f != NULL)
		finish(f, 0, err, sizeof err);
}
