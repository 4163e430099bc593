/* dsp/mixer.c — placeholder until the module lands. */
#include "module.h"
const struct module_type mixer_module = { .name = "mixer", .help = "not yet written", .size = 8 };
