/*
 * tests/ui_units_test.c — the terminal UI's parts that need no terminal:
 * key names both ways and the key map, the piano's note mapping and its
 * note-off timing without key releases, tab completion against a patch,
 * the prompt's line editing and history, undo and redo, the level
 * meter's zones and fill characters, and search.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "complete.h"
#include "keys.h"
#include "meter.h"
#include "patch.h"
#include "piano.h"
#include "prompt.h"
#include "search.h"
#include "undo.h"

#define MS 1000000ull

static void
test_keys(void)
{
	static const char *const names[] = {
		"a", "G", ":", "?", "[", "C-r", "C-l", "Enter", "Tab", "BTab", "Esc",
		"Space", "Backspace", "Delete", "Up", "Down", "Left", "Right", "Home",
		"End", "PageUp", "PageDown", "F1", "F12", NULL
	};
	char buf[32];
	for (unsigned i = 0; names[i] != NULL; i++) {
		int key = key_parse(names[i]);
		CHECK(key >= 0, "key %s does not parse", names[i]);
		key_describe(key, buf, sizeof buf);
		CHECK(strcmp(buf, names[i]) == 0, "key %s reads back as %s", names[i], buf);
	}
	CHECK(key_parse("C-R") < 0 || key_parse("C-R") == key_parse("C-r"),
	    "C-R is C-r or nothing");
	CHECK(key_parse("F25") < 0 && key_parse("Nope") < 0 && key_parse("") < 0,
	    "unknown names are refused");
	CHECK(key_normalize('\r') == UI_KEY_ENTER && key_normalize(KEY_ENTER) == UI_KEY_ENTER &&
	    key_normalize(127) == KEY_BACKSPACE, "Enter and Backspace fold");

	struct keymap m = { 0 };
	CHECK(keymap_bind(&m, 'j', "down") == 0, "bind");
	CHECK(keymap_bind(&m, 'j', "down 5") == 0 && m.n == 1, "rebinding replaces");
	CHECK(strcmp(keymap_lookup(&m, 'j'), "down 5") == 0, "lookup");
	CHECK(keymap_bind(&m, 'j', "") == 0 && keymap_lookup(&m, 'j') == NULL && m.n == 0,
	    "an empty command unbinds");
	char long_cmd[KEY_COMMAND_MAX + 1];
	memset(long_cmd, 'x', sizeof long_cmd - 1);
	long_cmd[KEY_COMMAND_MAX] = '\0';
	CHECK(keymap_bind(&m, 'k', long_cmd) == -1, "too long a command is refused");
	for (int k = 0; k < KEYMAP_MAX; k++)
		keymap_bind(&m, 1000 + k, "up");
	CHECK(keymap_bind(&m, 'z', "up") == -1 && m.n == KEYMAP_MAX, "a full map refuses");
}

static void
test_piano(void)
{
	struct piano p;
	int notes[PIANO_MAX_HELD];
	piano_init(&p);
	CHECK(piano_note_for_key(&p, 'z') == 60 && piano_note_for_key(&p, 's') == 61 &&
	    piano_note_for_key(&p, 'm') == 71 && piano_note_for_key(&p, ',') == 72,
	    "lower row from C4");
	CHECK(piano_note_for_key(&p, 'q') == 72 && piano_note_for_key(&p, '2') == 73 &&
	    piano_note_for_key(&p, 'p') == 88, "upper row from C5");
	CHECK(piano_note_for_key(&p, 'a') < 0 && piano_note_for_key(&p, 'Z') < 0 &&
	    piano_note_for_key(&p, KEY_UP) < 0, "other keys are not notes");
	p.octave = 9;
	CHECK(piano_note_for_key(&p, 'p') < 0, "notes past 127 are not played");
	p.octave = 4;

	/* a tap: one press, the note ends after first_hold */
	CHECK(piano_press(&p, 60, 0) == 1, "a press starts a note");
	CHECK(piano_due(&p, 699 * MS, notes, PIANO_MAX_HELD) == 0, "still sounding at 0.699 s");
	CHECK(piano_next_deadline(&p) == 700 * MS, "ends at 0.7 s");
	CHECK(piano_due(&p, 700 * MS, notes, PIANO_MAX_HELD) == 1 && notes[0] == 60,
	    "a tap ends at 0.7 s");

	/* a held key: the terminal's auto-repeat (500 ms delay, then every
	 * 33 ms) keeps it sounding; it ends 150 ms after the last repeat */
	uint64_t t = 10000 * MS;
	CHECK(piano_press(&p, 64, t) == 1, "press");
	uint64_t last = t + 500 * MS;
	for (uint64_t r = last; r < t + 3000 * MS; r += 33 * MS) {
		CHECK(piano_due(&p, r, notes, PIANO_MAX_HELD) == 0, "ended while repeating at %llu",
		    (unsigned long long)(r - t));
		CHECK(piano_press(&p, 64, r) == 0, "a repeat does not restart the note");
		last = r;
	}
	CHECK(piano_due(&p, last + 149 * MS, notes, PIANO_MAX_HELD) == 0, "not yet");
	CHECK(piano_due(&p, last + 150 * MS, notes, PIANO_MAX_HELD) == 1 && notes[0] == 64,
	    "ends 150 ms after the last repeat");
	CHECK(piano_next_deadline(&p) == UINT64_MAX, "nothing sounds");

	/* chords, a full hand, panic */
	for (int n = 0; n < PIANO_MAX_HELD; n++)
		CHECK(piano_press(&p, 40 + n, t) == 1, "chord note %d", n);
	CHECK(piano_press(&p, 100, t) == -1, "too many notes are refused");
	piano_clear(&p);
	CHECK(p.n_held == 0 && piano_next_deadline(&p) == UINT64_MAX, "panic forgets all");
}

/* Whether the completion holds `word`. */
static int
has(const struct completion *c, const char *word)
{
	for (unsigned i = 0; i < c->n; i++)
		if (strcmp(c->items[i], word) == 0)
			return 1;
	return 0;
}

static void
test_complete(void)
{
	static struct patch p;
	static struct completion c;
	struct patch_error err;
	static const char *const views[] = { "patch", "cost", NULL };
	static const struct complete_command extra[] = {
		{ "view", 0, views },
		{ "w", 1, NULL },
		{ NULL, 0, NULL }
	};
	patch_init(&p, 2, 2);
	CHECK(patch_load_text(&p,
	    "voice midi note\nvoice vco osc1\nvoice ladder flt\nglobal vca amp\n"
	    "connect osc1.out flt.in\n", "t", &err) == 0, "load: %s", err.message);

	complete_line(&p, "se", 2, extra, &c);
	CHECK(c.n == 1 && has(&c, "set") && c.start == 0, "command names: %u", c.n);
	complete_line(&p, "v", 1, extra, &c);
	CHECK(has(&c, "voice") && has(&c, "view") && c.common == 1, "both tables");
	complete_line(&p, "voice la", 8, extra, &c);
	CHECK(c.n == 1 && has(&c, "ladder") && c.start == 6, "module types");
	complete_line(&p, "voice vco o2 wa", 15, extra, &c);
	CHECK(c.n == 1 && has(&c, "wave="), "PARAM= of the type being added");
	/* PARAM=VALUE of the type being added (issue 18: "no completion") */
	complete_line(&p, "voice lfo l1 wave=s", 19, extra, &c);
	CHECK(c.n >= 2 && has(&c, "wave=sine") && has(&c, "wave=square") &&
	    c.common == 6, "wave=s of an lfo being added: %u, common %zu", c.n,
	    c.common);
	complete_line(&p, "voice lfo l1 wave=sq", 20, extra, &c);
	CHECK(c.n == 1 && has(&c, "wave=square"), "wave=sq: only square");
	complete_line(&p, "voice lfo l1 rate=1", 19, extra, &c);
	CHECK(c.n == 0, "a number parameter has no values to offer");
	complete_line(&p, "voice lfo l1 nope=s", 19, extra, &c);
	CHECK(c.n == 0, "an unknown parameter has none");
	complete_line(&p, "set fl", 6, extra, &c);
	CHECK(has(&c, "flt.cutoff") && has(&c, "flt.res") && c.common == 4,
	    "NAME.PARAM, common part 'flt.' (%zu)", c.common);
	complete_line(&p, "set osc1.wave s", 15, extra, &c);
	CHECK(has(&c, "saw") && has(&c, "sine") && !has(&c, "pulse"), "choice names");
	complete_line(&p, "connect ", 8, extra, &c);
	CHECK(has(&c, "osc1.out") && has(&c, "in.1") && has(&c, "note.pitch") &&
	    !has(&c, "flt.in"), "outputs first");
	complete_line(&p, "connect osc1.out ", 17, extra, &c);
	CHECK(has(&c, "flt.in") && has(&c, "out.2") && !has(&c, "osc1.out"), "then inputs");
	complete_line(&p, "connect a b ", 12, extra, &c);
	CHECK(c.n == 0, "nothing past the last argument");
	complete_line(&p, "remove a", 8, extra, &c);
	CHECK(c.n == 1 && has(&c, "amp"), "module names");
	complete_line(&p, "view c", 6, extra, &c);
	CHECK(c.n == 1 && has(&c, "cost"), "fixed words of a UI command");
	complete_line(&p, "w /usr/inclu", 12, extra, &c);
	CHECK(has(&c, "/usr/include/"), "file names, directories with /");
}

static void
test_prompt(void)
{
	static struct prompt p;
	static struct completion c;
	static struct patch pt;
	struct patch_error err;
	prompt_init(&p);
	prompt_start(&p, "set x");
	prompt_key(&p, KEY_BACKSPACE);
	for (const char *s = "flt.cutof"; *s; s++)
		prompt_key(&p, *s);
	CHECK(strcmp(p.buf, "set flt.cutof") == 0 && p.cursor == p.len, "typing: %s", p.buf);
	prompt_key(&p, KEY_HOME);
	prompt_key(&p, KEY_DC);
	CHECK(strcmp(p.buf, "et flt.cutof") == 0 && p.cursor == 0, "Home, Delete");
	prompt_key(&p, 's');
	prompt_key(&p, KEY_END);
	prompt_key(&p, 'w' & 0x1f);
	CHECK(strcmp(p.buf, "set ") == 0, "C-w kills a word: '%s'", p.buf);

	patch_init(&pt, 2, 2);
	CHECK(patch_load_text(&pt, "voice ladder flt\n", "t", &err) == 0, "load");
	for (const char *s = "flt.cu"; *s; s++)
		prompt_key(&p, *s);
	CHECK(prompt_key(&p, UI_KEY_TAB) == PROMPT_COMPLETE, "Tab asks for completion");
	complete_line(&pt, p.buf, p.cursor, NULL, &c);
	prompt_complete(&p, &c);
	CHECK(strcmp(p.buf, "set flt.cutoff ") == 0, "the only candidate and a blank: '%s'",
	    p.buf);
	prompt_key(&p, '9');
	CHECK(prompt_key(&p, UI_KEY_ENTER) == PROMPT_DONE, "Enter");
	prompt_start(&p, "");
	CHECK(prompt_key(&p, KEY_UP) == PROMPT_EDITING && strcmp(p.buf, "set flt.cutoff 9") == 0,
	    "Up recalls");
	prompt_key(&p, KEY_DOWN);
	CHECK(p.buf[0] == '\0', "Down returns to the draft");
	CHECK(prompt_key(&p, KEY_BACKSPACE) == PROMPT_CANCEL, "Backspace on empty cancels");
	for (int i = 0; i < HISTORY_MAX + 10; i++) {
		char line[32];
		snprintf(line, sizeof line, "line %d", i);
		prompt_remember(&p, line);
	}
	CHECK(p.n_history == HISTORY_MAX && strcmp(p.history[HISTORY_MAX - 1], "line 209") == 0,
	    "history keeps the newest %d", HISTORY_MAX);
	prompt_start(&p, "");
	for (int i = 0; i < PROMPT_MAX + 50; i++)
		prompt_key(&p, 'a');
	CHECK(p.len == PROMPT_MAX - 1 && p.buf[PROMPT_MAX - 1] == '\0', "a full line stays whole");
	prompt_free(&p);
}

static void
test_undo(void)
{
	static struct patch a, b, cur;
	static struct undo u;
	struct patch_error err;
	char file[UNDO_FILE_MAX] = "b.fsp";
	patch_init(&a, 2, 2);
	b = a;
	CHECK(patch_exec_line(&b, "voice vco osc", 0, &err) == 0, "edit");
	cur = b;
	undo_push(&u, &a, "a.fsp");
	CHECK(undo_step(&u, &cur, file, 0) == 0 && patch_equal(&cur, &a) &&
	    strcmp(file, "a.fsp") == 0, "undo gives the old patch and its file");
	CHECK(undo_step(&u, &cur, file, 0) == -1, "nothing more to undo");
	CHECK(undo_step(&u, &cur, file, 1) == 0 && patch_equal(&cur, &b) &&
	    strcmp(file, "b.fsp") == 0, "redo gives both back");
	CHECK(undo_step(&u, &cur, file, 1) == -1, "nothing more to redo");
	undo_step(&u, &cur, file, 0);
	undo_push(&u, &cur, file);
	CHECK(u.n_future == 0, "a new edit clears redo");
	for (int i = 0; i < UNDO_MAX + 20; i++)
		undo_push(&u, &a, "");
	CHECK(u.n_past == UNDO_MAX, "at most %d steps", UNDO_MAX);
	undo_free(&u);
}

/* The level meter: each zone its own fill character, and the last cell
 * of the fill in the reading's own zone, so that -1.4 dB and -5.9 dB
 * differ without colour (issue 18). */
static void
test_meter(void)
{
	char a[64], b[64];
	int cells = 22;
	CHECK(meter_zone(METER_LEVEL, meter_level_fraction(-12.5)) == 0 &&
	    meter_zone(METER_LEVEL, meter_level_fraction(-12)) == 1 &&
	    meter_zone(METER_LEVEL, meter_level_fraction(-3.5)) == 1 &&
	    meter_zone(METER_LEVEL, meter_level_fraction(-3)) == 2 &&
	    meter_zone(METER_LEVEL, meter_level_fraction(3.4)) == 2,
	    "zones: yellow from -12 dB, red from -3 dB and above 0 dB");
	int fa = meter_fill(METER_LEVEL, meter_level_fraction(-1.4), cells, a);
	int fb = meter_fill(METER_LEVEL, meter_level_fraction(-5.9), cells, b);
	CHECK(a[fa - 1] == '#' && b[fb - 1] == '=' && a[0] == '-' && b[0] == '-',
	    "-1.4 dB ends in '#', -5.9 dB in '=': '%.*s' '%.*s'", cells, a, cells, b);
	CHECK(memchr(b, '#', (size_t)cells) == NULL, "-5.9 dB shows no red cell");
	/* any reading in a zone shows that zone, however few cells it has */
	for (double db = -59.5; db <= 3; db += 0.25) {
		int f = meter_fill(METER_LEVEL, meter_level_fraction(db), cells, a);
		char want = db >= -3 ? '#' : db >= -12 ? '=' : '-';
		CHECK(f >= 1 && a[f - 1] == want, "%.2f dB: last cell '%c', want '%c'",
		    db, a[f - 1], want);
		for (int i = 1; i < f; i++)
			CHECK(a[i] >= a[i - 1] || a[i - 1] == '='  || a[i - 1] == '-',
			    "%.2f dB: zones in order", db);
	}
	int f = meter_fill(METER_LEVEL, meter_level_fraction(3.4), cells, a);
	CHECK(f == cells && a[cells - 1] == '#', "+3.4 dB: full, red at the end");
	f = meter_fill(METER_LEVEL, meter_level_fraction(-120), cells, a);
	CHECK(f == 0 && a[0] == ' ', "silence: empty");
}

static int
has_term(void *ctx, int i)
{
	const char *const *lines = ctx;
	return search_in(lines[i], "Osc") != NULL;
}

static int
has_none(void *ctx, int i)
{
	(void)ctx, (void)i;
	return 0;
}

static void
test_search(void)
{
	static const char *const lines[] = {
		"voice vco osc1", "voice ladder flt", "global VCA amp", "OSC2 here", NULL
	};
	int wrapped;
	CHECK(search_in("global VCA amp", "vca") != NULL &&
	    search_in("abc", "") == NULL && search_in("ab", "abc") == NULL,
	    "case-blind match; an empty term matches nowhere");
	CHECK(search_step(4, -1, 1, has_term, (void *)lines, &wrapped) == 0 && !wrapped,
	    "first match from before the list");
	CHECK(search_step(4, 0, 1, has_term, (void *)lines, &wrapped) == 3 && !wrapped,
	    "next match");
	CHECK(search_step(4, 3, 1, has_term, (void *)lines, &wrapped) == 0 && wrapped,
	    "round the end to the top, told");
	CHECK(search_step(4, 0, -1, has_term, (void *)lines, &wrapped) == 3 && wrapped,
	    "back round the top to the end, told");
	CHECK(search_step(4, 3, -1, has_term, (void *)lines, &wrapped) == 0 && !wrapped,
	    "previous match");
	CHECK(search_step(4, 1, 1, has_none, NULL, &wrapped) == -1 && !wrapped,
	    "nothing found");
	CHECK(search_step(0, -1, 1, has_term, (void *)lines, &wrapped) == -1,
	    "an empty list");
}

int
main(void)
{
	test_keys();
	test_piano();
	test_complete();
	test_prompt();
	test_undo();
	test_meter();
	test_search();
	if (check_verdict() != 0)
		return 1;
	printf("ok: key names and map, piano timing, completion, prompt, undo, "
	    "meter zones, search\n");
	return 0;
}
