/*
 * args.h - the one option parser of the workloads, driven by tables.
 *
 * Each program declares its options as a table of wl_opt_t rows (name,
 * type, where the value goes, default, range, help); `--help` is generated
 * from the tables, the result line's "params" too. Accepted forms:
 * `--name value` and `--name=value`; a program with a positional order
 * (larson's classic `seconds min max chunks rounds seed threads`) also
 * accepts exactly that many bare values.
 *
 * Bad input (unknown option, bad number, out of range, missing value) is
 * one sentence on stderr naming the option and what it accepts, then exit
 * status 2. `--help` prints the usage on stdout and exits 0.
 */
#ifndef WL_ARGS_H
#define WL_ARGS_H

#include <stdint.h>

#include "json.h"

typedef enum wl_opt_type {
	WL_OPT_INT,    /* int64_t; integral, also written as 1e6 */
	WL_OPT_DOUBLE, /* double */
	WL_OPT_CHOICE, /* const char *, one of `choices` ("json|mir|vm") */
} wl_opt_type_t;

typedef struct wl_opt {
	const char *name;    /* without the leading "--"; NULL ends a table */
	wl_opt_type_t type;  /* how the text is read */
	void *value;         /* int64_t *, double * or const char ** */
	const char *def;     /* default, as text */
	double min, max;     /* accepted range of numbers */
	const char *choices; /* WL_OPT_CHOICE: the accepted words, '|'-separated */
	const char *help;    /* one line for --help */
} wl_opt_t;

#define WL_INT(name, ptr, def, lo, hi, help) {name, WL_OPT_INT, (ptr), def, lo, hi, NULL, help}
#define WL_DOUBLE(name, ptr, def, lo, hi, help) {name, WL_OPT_DOUBLE, (ptr), def, lo, hi, NULL, help}
#define WL_CHOICE(name, ptr, def, choices, help) {name, WL_OPT_CHOICE, (ptr), def, 0, 0, choices, help}
#define WL_OPT_END {NULL, WL_OPT_INT, NULL, NULL, 0, 0, NULL, NULL}

#define WL_ARGS_TABLES 4 /* option tables per program: common + own */

typedef struct wl_cli {
	const char *program;               /* name used in messages */
	const char *summary;               /* one line: what the program models */
	const char *details;               /* more --help text (what one op is), or NULL */
	const wl_opt_t *tables[WL_ARGS_TABLES]; /* option tables, NULL-padded */
	const char *const *positional;     /* option names of the positional form, NULL-ended, or NULL */
} wl_cli_t;

/* Set every option to its default, then parse argv. Returns on success;
 * exits 2 on bad input and 0 after --help. Not thread-safe. */
void wl_args_parse(const wl_cli_t *cli, int argc, char **argv);

/* Write every option's effective value as members of the open object. */
void wl_args_json(const wl_cli_t *cli, wl_json_t *j);

/* Print "<program>: <message>" on stderr and exit 2: for bad combinations
 * of options (e.g. --min greater than --max). */
void wl_usage_error(const char *program, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

#endif /* WL_ARGS_H */
