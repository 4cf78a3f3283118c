/*
 * config.h - hakmem's effective configuration: one struct, filled once at
 * start from the HAKMEM_* environment variables declared in options.def.
 *
 * Every part of hakmem (tiers, learning layer, profile) reads options from
 * `hak_config` only; nothing else calls getenv. The struct is written once by
 * hak_options_init() before any allocation is served and is read-only after
 * that (the learner keeps its own state for what it moves, e.g. CAPs).
 *
 * Member types by row kind: INT -> long, DOUBLE -> double, BOOL -> bool,
 * STRING -> const char * ("" when unset, never NULL), DLIST -> hak_dlist_t.
 */
#ifndef HAK_CORE_CONFIG_H
#define HAK_CORE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define HAK_DLIST_MAX 16 /* values a list option may hold */

typedef struct hak_dlist {
	int n;                   /* values present */
	double v[HAK_DLIST_MAX]; /* the values, in the order given */
} hak_dlist_t;

typedef struct hak_config {
#define HAK_OPT_INT(N, f, d, lo, hi, m) long f;
#define HAK_OPT_DOUBLE(N, f, d, lo, hi, m) double f;
#define HAK_OPT_BOOL(N, f, d, m) bool f;
#define HAK_OPT_STRING(N, f, d, m) const char *f;
#define HAK_OPT_DLIST(N, f, d, m) hak_dlist_t f;
#include "options.def"
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#undef HAK_OPT_STRING
#undef HAK_OPT_DLIST
} hak_config_t;

/* The effective configuration. Valid once hak_options_init() has run (the
 * allocator's init does that before serving anything); read-only after. */
extern hak_config_t hak_config;

/* Fill hak_config: defaults, then HAKMEM_MODE's preset, then each variable.
 * A bad value prints one warning line naming the variable and its range and
 * keeps the default. Never allocates. Called once, from hak_init(). */
void hak_options_init(void);

/* Write `"config": {...}` (every option's effective value) to f. */
void hak_options_write_json(FILE *f);

#endif /* HAK_CORE_CONFIG_H */
