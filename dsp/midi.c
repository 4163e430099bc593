/* dsp/midi.c — placeholder until the module lands. */
#include "module.h"
const struct module_type midi_module = { .name = "midi", .help = "not yet written", .size = 8 };
