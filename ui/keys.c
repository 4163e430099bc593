/*
 * ui/keys.c — key names and the key map (ui/keys.h).
 */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"

/* Keys with a name of their own. */
static const struct {
	const char *name;
	int key;
} named_keys[] = {
	{ "Enter", UI_KEY_ENTER },
	{ "Tab", UI_KEY_TAB },
	{ "BTab", KEY_BTAB },
	{ "Esc", UI_KEY_ESCAPE },
	{ "Space", ' ' },
	{ "Backspace", KEY_BACKSPACE },
	{ "Delete", KEY_DC },
	{ "Insert", KEY_IC },
	{ "Up", KEY_UP },
	{ "Down", KEY_DOWN },
	{ "Left", KEY_LEFT },
	{ "Right", KEY_RIGHT },
	{ "Home", KEY_HOME },
	{ "End", KEY_END },
	{ "PageUp", KEY_PPAGE },
	{ "PageDown", KEY_NPAGE },
	{ "S-Up", KEY_SR },
	{ "S-Down", KEY_SF },
	{ "S-Left", KEY_SLEFT },
	{ "S-Right", KEY_SRIGHT },
};

int
key_parse(const char *name)
{
	size_t len = strlen(name);
	if (len == 1 && (unsigned char)name[0] > ' ' && (unsigned char)name[0] < 127)
		return name[0];
	for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (strcmp(name, named_keys[i].name) == 0)
			return named_keys[i].key;
	if (len == 3 && name[0] == 'C' && name[1] == '-' &&
	    ((name[2] >= 'a' && name[2] <= 'z') || (name[2] >= '@' && name[2] <= '_')))
		return name[2] & 0x1f;
	int n;
	char extra;
	if (name[0] == 'F' && sscanf(name + 1, "%d%c", &n, &extra) == 1 &&
	    n >= 1 && n <= 24)
		return KEY_F(n);
	return -1;
}

void
key_describe(int key, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (named_keys[i].key == key) {
			snprintf(buf, size, "%s", named_keys[i].name);
			return;
		}
	if (key > ' ' && key < 127)
		snprintf(buf, size, "%c", key);
	else if (key >= 0 && key < ' ')
		snprintf(buf, size, "C-%c", key + 'a' - 1);
	else if (key >= KEY_F(1) && key <= KEY_F(24))
		snprintf(buf, size, "F%d", key - KEY_F0);
	else
		snprintf(buf, size, "<%d>", key);
}

int
key_normalize(int key)
{
	switch (key) {
	case '\r':
	case KEY_ENTER:
		return UI_KEY_ENTER;
	case 127:
	case 8:
		return KEY_BACKSPACE;
	default:
		return key;
	}
}

int
keymap_bind(struct keymap *m, int key, const char *command)
{
	if (strlen(command) >= KEY_COMMAND_MAX)
		return -1;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->b[i].key != key)
			continue;
		if (command[0] == '\0')
			m->b[i] = m->b[--m->n];
		else
			snprintf(m->b[i].command, KEY_COMMAND_MAX, "%s", command);
		return 0;
	}
	if (command[0] == '\0')
		return 0;
	if (m->n == KEYMAP_MAX)
		return -1;
	m->b[m->n].key = key;
	snprintf(m->b[m->n].command, KEY_COMMAND_MAX, "%s", command);
	m->n++;
	return 0;
}

const char *
keymap_lookup(const struct keymap *m, int key)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->b[i].key == key)
			return m->b[i].command;
	return NULL;
}
