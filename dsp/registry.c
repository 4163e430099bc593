/*
 * dsp/registry.c — the one table of module types, and lookups by name.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "module.h"

extern const struct module_type vco_module;
extern const struct module_type lfo_module;
extern const struct module_type noise_module;
extern const struct module_type adsr_module;
extern const struct module_type ladder_module;
extern const struct module_type svf_module;
extern const struct module_type vca_module;
extern const struct module_type mixer_module;
extern const struct module_type pan_module;
extern const struct module_type delay_module;
extern const struct module_type reverb_module;
extern const struct module_type convolver_module;
extern const struct module_type midi_module;
extern const struct module_type waveshaper_module;
extern const struct module_type slew_module;
extern const struct module_type sh_module;
extern const struct module_type ring_module;
extern const struct module_type chorus_module;
extern const struct module_type compressor_module;
extern const struct module_type limiter_module;
extern const struct module_type seq_module;
#ifdef FORKSYNTH_FAULT_INJECTION
extern const struct module_type fault_module;
#endif

const struct module_type *const module_table[] = {
	&midi_module,
	&vco_module,
	&lfo_module,
	&noise_module,
	&adsr_module,
	&ladder_module,
	&svf_module,
	&vca_module,
	&mixer_module,
	&pan_module,
	&delay_module,
	&reverb_module,
	&convolver_module,
	&waveshaper_module,
	&slew_module,
	&sh_module,
	&ring_module,
	&chorus_module,
	&compressor_module,
	&limiter_module,
	&seq_module,
#ifdef FORKSYNTH_FAULT_INJECTION
	&fault_module,
#endif
	NULL
};

const struct module_type *
module_find(const char *name)
{
	for (unsigned i = 0; module_table[i] != NULL; i++)
		if (strcmp(module_table[i]->name, name) == 0)
			return module_table[i];
	return NULL;
}

int
module_param_index(const struct module_type *type, const char *name)
{
	for (unsigned i = 0; i < type->n_params; i++)
		if (strcmp(type->params[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
module_input_index(const struct module_type *type, const char *name)
{
	for (unsigned i = 0; i < type->n_inputs; i++)
		if (strcmp(type->inputs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
module_output_index(const struct module_type *type, const char *name)
{
	for (unsigned i = 0; i < type->n_outputs; i++)
		if (strcmp(type->outputs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
module_text_param(const struct module_type *type)
{
	for (unsigned i = 0; i < type->n_params; i++)
		if (type->params[i].kind == PARAM_TEXT)
			return (int)i;
	return -1;
}

size_t
module_state_size(const struct module_type *type, float rate)
{
	return type->size_for_rate != NULL ? type->size_for_rate(rate) : type->size;
}

float
param_clamp(const struct param_desc *p, float value)
{
	if (value != value)            /* NaN: fall back to the default */
		value = p->def;
	if (p->kind != PARAM_REAL)
		value = roundf(value);
	if (value < p->min)
		value = p->min;
	if (value > p->max)
		value = p->max;
	return value;
}
