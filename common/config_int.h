/*
 * common/config_int.h
 *   What the configuration's files share, and nobody else: the key table
 *   (config_keys.c) and the setter that parses a value into its field.
 *   config_file.c reads the INI file through it; config.c applies the
 *   other sources and the cross-key checks.
 */
#ifndef WVETL_CONFIG_INT_H
#define WVETL_CONFIG_INT_H

#include <stddef.h>

#include "common/config.h"

typedef enum ConfigType
{
	CT_STRING = 0,
	CT_DURATION,
	CT_INT,
	CT_REJECTS,
	CT_LEVEL,
	CT_FORMAT,
	CT_SWITCH,					/* off or on, into a bool */
	CT_PRIVACY					/* keep, hash or drop: a PrivacyMode */
} ConfigType;

typedef struct ConfigKey
{
	const char *section;
	const char *name;
	ConfigType	type;
	size_t		offset;
	const char *def;			/* NULL: no default */
	const char *help;
	unsigned	flags;			/* CK_* */
} ConfigKey;

/* The key may be set in an [operation NAME] section (an operation's own
 * value); the others are the same for every operation (one warehouse, one
 * log, one run). */
#define CK_PER_OPERATION 0x01

/* The table: every key once, in the order `wvetl config` prints them. */
extern const ConfigKey config_keys[];
extern const size_t config_nkeys;

#define N_KEYS config_nkeys

/* The table index of section.name, or -1. */
int			config_key_index(const char *section, const char *name);

/* True when some key of the table is in section. */
bool		config_section_known(const char *section);

/* For an unknown section.name: "; did you mean \"X\"?" when a key of the
 * table is close, else "". out gets at least 1 byte. */
void		config_suggest(const char *section, const char *name, char *out, size_t size);

/* For a section "operation NAME": NAME (into section); else NULL. */
const char *config_operation_section(const char *section);

/* The index of key name as written in [section] (an [operation NAME]
 * section takes only CK_PER_OPERATION keys, written "section.key", or by
 * their bare name for [api] keys), or -1 with why (size bytes) saying
 * what is wrong. */
int			config_section_key_index(const char *section, const char *name,
									 char *why, size_t size);

/* Key idx's value, source and line from src into dst (strings copied). */
void		config_copy_value(EtlConfig *dst, const EtlConfig *src, int idx);

/* Parse value for key idx into cfg (the previous string freed); on a bad
 * value, errbuf says what is expected. */
bool		config_assign(EtlConfig *cfg, int idx, const char *value, char *errbuf);

/* Key k's value in cfg as one would write it in the file (the token and a
 * conninfo password masked; "(unset)" for none). */
void		config_format_value(const EtlConfig *cfg, const ConfigKey *k, char *out, size_t size);

#endif							/* WVETL_CONFIG_INT_H */
