/* dsp/delay.c — placeholder until the module lands. */
#include "module.h"
const struct module_type delay_module = { .name = "delay", .help = "not yet written", .size = 8 };
