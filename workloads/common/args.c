/*
 * args.c - table-driven option parsing, --help and the params JSON.
 * Owns every message about bad command lines; the programs only declare
 * tables and check combinations (wl_usage_error).
 */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wl_usage_error(const char *program, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* "an integer in 8..1024", "a number in 0.001..1e+06", "one of json|mir|vm" */
static void args_describe(const wl_opt_t *o, char *out, size_t cap)
{
	switch (o->type) {
	case WL_OPT_INT:
		snprintf(out, cap, "an integer in %lld..%lld", (long long)o->min, (long long)o->max);
		break;
	case WL_OPT_DOUBLE:
		snprintf(out, cap, "a number in %.15g..%.15g", o->min, o->max);
		break;
	case WL_OPT_CHOICE:
		snprintf(out, cap, "one of %s", o->choices);
		break;
	}
}

static int args_is_choice(const char *choices, const char *text)
{
	size_t n = strlen(text);
	const char *c = choices;
	while (n && *c) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);
		if (len == n && strncmp(c, text, n) == 0)
			return 1;
		if (!bar)
			break;
		c = bar + 1;
	}
	return 0;
}

/* Store `text` into option `o`; on bad input print a message naming the
 * option (`what`, e.g. "option --size") and exit 2. */
static void args_set(const wl_cli_t *cli, const wl_opt_t *o, const char *what, const char *text)
{
	char range[160];
	args_describe(o, range, sizeof range);
	if (o->type == WL_OPT_CHOICE) {
		if (!args_is_choice(o->choices, text))
			wl_usage_error(cli->program, "%s: '%s' is not accepted; give %s.", what, text, range);
		*(const char **)o->value = text;
		return;
	}
	char *end = NULL;
	errno = 0;
	double v = strtod(text, &end);
	if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
		wl_usage_error(cli->program, "%s: '%s' is not a number; give %s.", what, text, range);
	if (o->type == WL_OPT_INT && v != floor(v))
		wl_usage_error(cli->program, "%s: '%s' is not an integer; give %s.", what, text, range);
	if (v < o->min || v > o->max)
		wl_usage_error(cli->program, "%s: %s is out of range; give %s.", what, text, range);
	if (o->type == WL_OPT_INT) {
		/* Exact for integers written in full (strtod rounds above 2^53). */
		long long i = strtoll(text, &end, 10);
		*(int64_t *)o->value = (*end == '\0') ? (int64_t)i : (int64_t)v;
	} else {
		*(double *)o->value = v;
	}
}

static const wl_opt_t *args_find(const wl_cli_t *cli, const char *name, size_t len)
{
	for (int t = 0; t < WL_ARGS_TABLES && cli->tables[t]; t++)
		for (const wl_opt_t *o = cli->tables[t]; o->name; o++)
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static void args_help(const wl_cli_t *cli)
{
	printf("usage: %s [options]\n", cli->program);
	if (cli->positional) {
		printf("   or: %s", cli->program);
		for (const char *const *p = cli->positional; *p; p++)
			printf(" %s", *p);
		printf("   (the classic positional form)\n");
	}
	printf("\n%s\n", cli->summary);
	if (cli->details)
		printf("%s\n", cli->details);
	printf("\noptions:\n");
	for (int t = 0; t < WL_ARGS_TABLES && cli->tables[t]; t++) {
		for (const wl_opt_t *o = cli->tables[t]; o->name; o++) {
			char range[160], flag[64];
			args_describe(o, range, sizeof range);
			snprintf(flag, sizeof flag, "--%s", o->name);
			printf("  %-18s %s\n  %-18s (%s; default %s)\n", flag, o->help, "", range, o->def);
		}
	}
	printf("  %-18s this text\n\n", "--help");
	printf("The last line on stdout is one JSON result line; exit status 0 on success,\n"
	       "2 for bad arguments, 3 when the run failed (e.g. out of memory).\n");
}

void wl_args_parse(const wl_cli_t *cli, int argc, char **argv)
{
	for (int t = 0; t < WL_ARGS_TABLES && cli->tables[t]; t++) {
		for (const wl_opt_t *o = cli->tables[t]; o->name; o++) {
			char what[96];
			snprintf(what, sizeof what, "default of option --%s", o->name);
			args_set(cli, o, what, o->def);
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			args_help(cli);
			exit(0);
		}
	}
	if (argc > 1 && cli->positional && argv[1][0] != '-') {
		int want = 0;
		while (cli->positional[want])
			want++;
		if (argc - 1 != want)
			wl_usage_error(cli->program,
				       "the positional form takes exactly %d values (see --help), got %d; "
				       "or use named options.", want, argc - 1);
		for (int k = 0; k < want; k++) {
			const char *name = cli->positional[k];
			char what[96];
			snprintf(what, sizeof what, "positional argument %d (--%s)", k + 1, name);
			args_set(cli, args_find(cli, name, strlen(name)), what, argv[k + 1]);
		}
		return;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0)
			wl_usage_error(cli->program, "unexpected argument '%s'; options are named, "
				       "e.g. --threads 2 (see --help).", arg);
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const wl_opt_t *o = args_find(cli, name, len);
		if (!o)
			wl_usage_error(cli->program, "unknown option --%.*s; see --help for the accepted options.",
				       (int)len, name);
		char what[96], range[160];
		snprintf(what, sizeof what, "option --%s", o->name);
		const char *value = eq ? eq + 1 : NULL;
		if (!value) {
			if (i + 1 >= argc) {
				args_describe(o, range, sizeof range);
				wl_usage_error(cli->program, "%s needs a value: %s.", what, range);
			}
			value = argv[++i];
		}
		args_set(cli, o, what, value);
	}
}

void wl_args_json(const wl_cli_t *cli, wl_json_t *j)
{
	for (int t = 0; t < WL_ARGS_TABLES && cli->tables[t]; t++) {
		for (const wl_opt_t *o = cli->tables[t]; o->name; o++) {
			switch (o->type) {
			case WL_OPT_INT:
				wl_json_int(j, o->name, *(int64_t *)o->value);
				break;
			case WL_OPT_DOUBLE:
				wl_json_num(j, o->name, *(double *)o->value);
				break;
			case WL_OPT_CHOICE:
				wl_json_str(j, o->name, *(const char **)o->value);
				break;
			}
		}
	}
}
