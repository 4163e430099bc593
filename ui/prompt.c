/*
 * ui/prompt.c — the `:` prompt's line editor (ui/prompt.h).  The line is
 * UTF-8: the terminal's bytes are kept as they come (ncurses hands them
 * over one at a time), and the cursor moves and deletes by whole
 * characters.  Bytes that are not UTF-8 are kept too, so that Enter names
 * them in an error rather than losing them.
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "prompt.h"

void
prompt_init(struct prompt *p)
{
	memset(p, 0, sizeof *p);
	p->history = xcalloc(HISTORY_MAX, PROMPT_MAX);
	p->browsing = -1;
}

void
prompt_free(struct prompt *p)
{
	free(p->history);
	p->history = NULL;
}

void
prompt_start(struct prompt *p, const char *initial)
{
	snprintf(p->buf, sizeof p->buf, "%s", initial);
	p->len = p->cursor = strlen(p->buf);
	p->browsing = -1;
}

void
prompt_remember(struct prompt *p, const char *line)
{
	if (line[0] == '\0' ||
	    (p->n_history > 0 && strcmp(p->history[p->n_history - 1], line) == 0))
		return;
	if (p->n_history == HISTORY_MAX) {
		memmove(p->history[0], p->history[1], (HISTORY_MAX - 1) * PROMPT_MAX);
		p->n_history--;
	}
	snprintf(p->history[p->n_history++], PROMPT_MAX, "%s", line);
}

/* Insert `text` of `n` bytes at the cursor, as much as fits. */
static void
insert(struct prompt *p, const char *text, size_t n)
{
	if (n > PROMPT_MAX - 1 - p->len)
		n = PROMPT_MAX - 1 - p->len;
	memmove(p->buf + p->cursor + n, p->buf + p->cursor, p->len - p->cursor + 1);
	memcpy(p->buf + p->cursor, text, n);
	p->len += n;
	p->cursor += n;
}

/* Delete `n` bytes before the cursor. */
static void
delete_back(struct prompt *p, size_t n)
{
	if (n > p->cursor)
		n = p->cursor;
	memmove(p->buf + p->cursor - n, p->buf + p->cursor, p->len - p->cursor + 1);
	p->cursor -= n;
	p->len -= n;
}

/* Whether byte c continues a UTF-8 sequence. */
static int
continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/* The byte offset of the character before `at`. */
static size_t
char_before(const struct prompt *p, size_t at)
{
	size_t i = at;
	while (i > 0 && continuation(p->buf[--i]) && at - i < 4)
		;
	return i;
}

/* The byte offset of the character after the one at `at`. */
static size_t
char_after(const struct prompt *p, size_t at)
{
	size_t i = at;
	if (i < p->len)
		i++;
	while (i < p->len && continuation(p->buf[i]) && i - at < 4)
		i++;
	return i;
}

size_t
prompt_columns(const char *text, size_t n)
{
	size_t cols = 0;
	for (size_t i = 0; i < n; i++)
		cols += !continuation(text[i]);
	return cols;
}

/* Show history entry `i` (-1: the draft). */
static void
browse(struct prompt *p, int i)
{
	if (p->browsing < 0)
		snprintf(p->draft, sizeof p->draft, "%s", p->buf);
	p->browsing = i;
	snprintf(p->buf, sizeof p->buf, "%s", i < 0 ? p->draft : p->history[i]);
	p->len = p->cursor = strlen(p->buf);
}

enum prompt_result
prompt_key(struct prompt *p, int key)
{
	char c;
	switch (key) {
	case UI_KEY_ENTER:
		prompt_remember(p, p->buf);
		return PROMPT_DONE;
	case UI_KEY_ESCAPE:
	case 'c' & 0x1f:
		return PROMPT_CANCEL;
	case UI_KEY_TAB:
		return PROMPT_COMPLETE;
	case KEY_BACKSPACE:
		if (p->len == 0)
			return PROMPT_CANCEL;
		delete_back(p, p->cursor - char_before(p, p->cursor));
		break;
	case KEY_DC:
	case 'd' & 0x1f:
		if (p->cursor < p->len) {
			p->cursor = char_after(p, p->cursor);
			delete_back(p, p->cursor - char_before(p, p->cursor));
		}
		break;
	case KEY_LEFT:
	case 'b' & 0x1f:
		p->cursor = char_before(p, p->cursor);
		break;
	case KEY_RIGHT:
	case 'f' & 0x1f:
		p->cursor = char_after(p, p->cursor);
		break;
	case KEY_HOME:
	case 'a' & 0x1f:
		p->cursor = 0;
		break;
	case KEY_END:
	case 'e' & 0x1f:
		p->cursor = p->len;
		break;
	case 'u' & 0x1f:
		delete_back(p, p->cursor);
		break;
	case 'k' & 0x1f:
		p->buf[p->cursor] = '\0';
		p->len = p->cursor;
		break;
	case 'w' & 0x1f: {
		size_t i = p->cursor;
		while (i > 0 && p->buf[i - 1] == ' ')
			i--;
		while (i > 0 && p->buf[i - 1] != ' ')
			i--;
		delete_back(p, p->cursor - i);
		break;
	}
	case KEY_UP:
		if (p->n_history > 0)
			browse(p, p->browsing < 0 ? (int)p->n_history - 1 :
			    p->browsing > 0 ? p->browsing - 1 : 0);
		break;
	case KEY_DOWN:
		if (p->browsing >= 0)
			browse(p, p->browsing + 1 < (int)p->n_history ? p->browsing + 1 : -1);
		break;
	default:
		/* printable ASCII, and the bytes of other characters */
		if ((key >= ' ' && key < 127) || (key >= 0x80 && key <= 0xff)) {
			c = (char)key;
			insert(p, &c, 1);
		}
		break;
	}
	return PROMPT_EDITING;
}

void
prompt_complete(struct prompt *p, const struct completion *c)
{
	if (c->n == 0 || c->start > p->cursor)
		return;
	size_t have = p->cursor - c->start;
	const char *word = c->items[0];
	size_t n = c->n == 1 ? strlen(word) : c->common;
	if (n <= have && c->n > 1)
		return;
	delete_back(p, have);
	insert(p, word, n);
	if (c->n == 1 && n > 0 && word[n - 1] != '=' && word[n - 1] != '/')
		insert(p, " ", 1);
}
