/*
 * tests/wavcmp.c — compare two audio files block by block: how many blocks
 * are identical, how many are silent in the first file (a span lost to a
 * crash), how many differ otherwise.  Used by the engine tests.
 *
 * usage: wavcmp A B BLOCK   exits 0 when every block of A equals B's or
 *                           is silent, and the files have the same length.
 *        wavcmp --within A B   exits 0 when A appears, sample for sample,
 *                              inside B (found at some offset); prints how
 *                              many of A's 256-frame blocks B holds in
 *                              order, for when B itself lost frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

/* Open a file for reading or exit with its name and libsndfile's reason. */
static SNDFILE *
open_or_die(const char *path, SF_INFO *info)
{
	memset(info, 0, sizeof *info);
	SNDFILE *f = sf_open(path, SFM_READ, info);
	if (f == NULL) {
		fprintf(stderr, "wavcmp: %s: %s\n", path, sf_strerror(NULL));
		exit(2);
	}
	return f;
}

/* Read a whole file, interleaved. */
static float *
read_all(const char *path, SF_INFO *info)
{
	SNDFILE *f = open_or_die(path, info);
	float *x = calloc((size_t)info->frames * (size_t)info->channels + 1, sizeof(float));
	if (x == NULL) {
		fprintf(stderr, "wavcmp: %s: out of memory\n", path);
		exit(2);
	}
	sf_readf_float(f, x, info->frames);
	sf_close(f);
	return x;
}

/* A inside B: find where A's first non-silent frame run matches, then
 * compare every frame of A there. */
static int
within(const char *pa, const char *pb)
{
	SF_INFO ia, ib;
	float *a = read_all(pa, &ia), *b = read_all(pb, &ib);
	long ch = ia.channels, na = (long)ia.frames, nb = (long)ib.frames;
	int rc = 1;
	if (ia.channels != ib.channels || na > nb || na < 64) {
		printf("channels %d/%d, frames %ld/%ld\n", ia.channels, ib.channels, na, nb);
		goto out;
	}
	long key = 0;
	while (key < na - 64 && a[key * ch] == 0.0f)
		key++;
	for (long off = 0; off + na <= nb; off++) {
		if (memcmp(&a[key * ch], &b[(off + key) * ch], 64 * ch * sizeof(float)) != 0)
			continue;
		long same = 0;
		for (long i = 0; i < na && off + i < nb; i++)
			same += memcmp(&a[i * ch], &b[(off + i) * ch], ch * sizeof(float)) == 0;
		/* block by block, in order, allowing B to skip frames it lost */
		long blocks = na / 256, found = 0, pos = off;
		for (long k = 0; k < blocks; k++) {
			const float *blk = &a[k * 256 * ch];
			for (long q = pos; q + 256 <= nb; q++)
				if (memcmp(blk, &b[q * ch], 256 * ch * sizeof(float)) == 0) {
					found++;
					pos = q + 256;
					break;
				}
		}
		printf("%ld of %ld frames identical at offset %ld; %ld of %ld blocks "
		    "found in order\n", same, na, off, found, blocks);
		rc = same == na ? 0 : found == blocks ? 3 : 1;
		goto out;
	}
	printf("not found inside %s\n", pb);
out:
	free(a);
	free(b);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--within") == 0)
		return within(argv[2], argv[3]);
	if (argc != 4) {
		fprintf(stderr, "usage: wavcmp A B BLOCK\n");
		return 2;
	}
	SF_INFO ia, ib;
	SNDFILE *a = open_or_die(argv[1], &ia), *b = open_or_die(argv[2], &ib);
	long block = atol(argv[3]);
	if (block <= 0 || ia.channels != ib.channels) {
		fprintf(stderr, "wavcmp: bad block or channel counts differ\n");
		return 2;
	}
	size_t n = (size_t)block * (size_t)ia.channels;
	float *ba = calloc(n, sizeof(float)), *bb = calloc(n, sizeof(float));
	long blocks = 0, equal = 0, silent = 0, differ = 0;
	for (;;) {
		sf_count_t ra = sf_readf_float(a, ba, block);
		sf_count_t rb = sf_readf_float(b, bb, block);
		if (ra <= 0 && rb <= 0)
			break;
		blocks++;
		size_t len = (size_t)(ra > rb ? ra : rb) * (size_t)ia.channels;
		if (ra != rb) {
			differ++;
			continue;
		}
		if (memcmp(ba, bb, len * sizeof(float)) == 0) {
			equal++;
			continue;
		}
		size_t i = 0;
		while (i < len && ba[i] == 0.0f)
			i++;
		if (i == len)
			silent++;
		else
			differ++;
	}
	printf("frames: %lld %lld, blocks: %ld, equal: %ld, silent: %ld, differ: %ld\n",
	    (long long)ia.frames, (long long)ib.frames, blocks, equal, silent, differ);
	sf_close(a);
	sf_close(b);
	free(ba);
	free(bb);
	return differ == 0 && ia.frames == ib.frames ? 0 : 1;
}
