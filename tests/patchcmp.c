/*
 * tests/patchcmp.c — whether two patch files build the same patch (modules,
 * parameters, connections, polyphony), whatever their layout: saving keeps
 * the user's layout, so scripts that compare a saved file with another
 * compare what the files mean.  Exit 0 when equal; 1 with both canonical
 * forms on stdout when not; 2 when one does not load.
 */
#include <stdio.h>
#include <stdlib.h>

#include "patch.h"
#include "patchfile.h"

int
main(int argc, char **argv)
{
	static struct patch a, b;
	struct patch_error err;
	char msg[600];

	if (argc != 3) {
		fprintf(stderr, "usage: patchcmp A.fsp B.fsp\n");
		return 2;
	}
	for (int i = 0; i < 2; i++) {
		struct patch *p = i ? &b : &a;
		patch_init(p, PATCH_MAX_IO, PATCH_MAX_IO);
		if (patch_load_file(p, argv[1 + i], &err) != 0) {
			patch_error_format(&err, msg, sizeof msg);
			fprintf(stderr, "patchcmp: %s\n", msg);
			return 2;
		}
	}
	if (patch_equal(&a, &b))
		return 0;
	char *ta = patchfile_canonical(&a), *tb = patchfile_canonical(&b);
	printf("%s builds:\n%s%s builds:\n%s", argv[1], ta, argv[2], tb);
	free(ta);
	free(tb);
	return 1;
}
