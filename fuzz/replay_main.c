/*
 * fuzz/replay_main.c — runs a fuzz target without libFuzzer: every file
 * named on the command line, and every file (not starting with '.') in each
 * directory named, goes once through LLVMFuzzerTestOneInput.  A finding
 * aborts; otherwise it prints how many inputs ran.  This is how `make check`
 * keeps the seed corpus and the regression inputs passing with any compiler.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "log.h"

/* Largest input replayed, bytes: far above any corpus file. */
#define REPLAY_MAX (1024 * 1024)

/* Run the target over one file. */
static void
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fatal("cannot open %s: %s", path, strerror(errno));
	uint8_t *data = xmalloc(REPLAY_MAX + 1);
	size_t n = fread(data, 1, REPLAY_MAX + 1, f);
	if (ferror(f))
		fatal("cannot read %s", path);
	fclose(f);
	if (n > REPLAY_MAX)
		fatal("%s is larger than %d bytes", path, REPLAY_MAX);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
}

/* Hidden files (editor and libFuzzer leftovers) are not inputs. */
static int
visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Run the target over every file of a directory, in name order; returns
 * how many. */
static unsigned
replay_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];

	int n = scandir(dir, &names, visible, alphasort);
	if (n < 0)
		fatal("cannot open %s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		replay_file(path);
		free(names[i]);
	}
	free(names);
	return (unsigned)n;
}

int
main(int argc, char **argv)
{
	unsigned total = 0;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0)
			fatal("cannot open %s: %s", argv[i], strerror(errno));
		unsigned n = 1;
		if (S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			replay_file(argv[i]);
		if (n == 0)
			fatal("no inputs in %s", argv[i]);
		printf("%s: %u input%s replayed\n", argv[i], n, n == 1 ? "" : "s");
		total += n;
	}
	printf("%u inputs replayed without a finding\n", total);
	return 0;
}
