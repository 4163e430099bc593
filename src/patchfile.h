/*
 * src/patchfile.h — a patch's own file: saving a patch into the text of
 * the file it came from so that the file stays its owner's (comments,
 * blank lines, order and spacing of untouched lines kept; only the lines
 * that changed change), writing it safely (mode kept, symbolic links
 * followed, atomic in the target's directory, never onto a device, FIFO or
 * directory), and the rules for when a save needs force.
 */
#ifndef FORKSYNTH_PATCHFILE_H
#define FORKSYNTH_PATCHFILE_H

#include <stddef.h>

#include "patch.h"

/* Largest patch file text read or written, bytes. */
#define PATCHFILE_TEXT_MAX (1024 * 1024)

/*
 * The text `base` (a patch file's text) edited so that loading it builds
 * exactly `p` (patch_equal): changed parameters are changed where the file
 * sets them, renamed modules renamed on their lines, removed modules and
 * connections lose their lines, new ones are added after the file's last
 * module or connection line, `poly` is changed in place; every other line
 * stays byte for byte.  Returns a new string (free it), or NULL when the
 * base does not load with p's channel counts or uses lines whose effect
 * cannot be followed (remove, rename, disconnect): then only the canonical
 * form (patchfile_canonical) can be written.
 */
char *patchfile_merge(const char *base, const struct patch *p);

/* The canonical text of p, as patch_save writes it (free it). */
char *patchfile_canonical(const struct patch *p);

/*
 * Replace the file at `path` by `text`, atomically: a temporary file in
 * the directory of the final target (a symbolic link is followed and stays
 * a link), written, given the old file's mode (a new file gets 0666 less
 * the umask) and owner where allowed, fsynced, renamed over the target,
 * and the directory fsynced.  Devices, FIFOs, sockets and directories are
 * refused.  Nothing is left behind on failure.  Returns 0, or -1 with a
 * message naming the path and what to do in err.
 */
int patchfile_write(const char *path, const char *text, char *err,
    size_t size);

/* What a patch's own file is: where it was loaded from or last saved to,
 * and its text then, to keep its layout and to see changes on disk. */
struct patchfile;

/* A patch that came from `path` with `text` (path NULL: not from a file,
 * e.g. the built-in patch; text NULL: unknown). */
struct patchfile *patchfile_new(const char *path, const char *text);
void patchfile_free(struct patchfile *f);

/* The patch now comes from `path` with `text` (either may be NULL). */
void patchfile_set(struct patchfile *f, const char *path, const char *text);

/* The patch's file, or NULL when it has none. */
const char *patchfile_path(const struct patchfile *f);

/*
 * Save p to `path` (NULL: the patch's own file).  Without `force` it
 * refuses to write over an existing file that is not the patch's own, and
 * over its own file when that changed on disk since it was loaded or saved
 * (someone else's edits would be lost).  A device, FIFO, socket or
 * directory is refused even with force.  The text keeps the layout of the
 * patch's own file (patchfile_merge) where it can, else it is canonical.
 * On success the file becomes the patch's own and `msg` says what was
 * done ("saved FILE", with a note when the layout could not be kept);
 * returns 0.  On failure returns -1 with the reason in msg; nothing on
 * disk changed.
 */
int patchfile_save(struct patchfile *f, const struct patch *p,
    const char *path, int force, char *msg, size_t size);

#endif
