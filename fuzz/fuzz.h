/*
 * fuzz/fuzz.h — what the fuzz targets share: the libFuzzer entry point
 * (also driven by fuzz/replay_main.c without libFuzzer), turning raw bytes
 * into text, failing loudly, and the save/reload round trip of a patch.
 */
#ifndef FORKSYNTH_FUZZ_H
#define FORKSYNTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "patch.h"

/* The placeholder an input may use for a directory of impulse responses
 * made by fuzz_text (room.wav, names full of quotes, backslashes and '#',
 * an empty one, a 3-channel one and a text file), so that file parameters
 * can pass their check and be round-tripped. */
#define FUZZ_IR_DIR "@IRDIR@"

/* Run one input; aborts on any finding.  Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input as text: cut at its first NUL byte (the language is text and
 * files holding NUL are refused before parsing), with every FUZZ_IR_DIR
 * replaced by the directory of impulse responses.  Free it.
 */
char *fuzz_text(const uint8_t *data, size_t size);

/* Print "finding: " and the message, then the input, and abort(). */
void fuzz_fail(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* The `n`-th line (from 1) of text and its length, or NULL. */
const char *fuzz_line(const char *text, unsigned n, size_t *len);

/* Check that an error names a line of text and a column on it (or just
 * past its end), as every error of the command language must. */
void fuzz_check_error(const char *text, const struct patch_error *err,
    const char *what);

/* Save p, reload the text, and check that the patch is equal and that
 * saving it again gives the same text; aborts otherwise. */
void fuzz_roundtrip(const struct patch *p, const char *text);

#endif
