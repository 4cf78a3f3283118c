/*
 * options.c - reads the HAKMEM_* environment variables of options.def into
 * hak_config, once, at start. The only file of hakmem that calls getenv.
 *
 * Owns: parsing, range checks, the one-line warnings, HAKMEM_MODE presets,
 * the "config" member of the statistics file. Does not own: what an option
 * means to its tier (see the tier that reads it).
 *
 * Nothing here allocates (it runs inside the first malloc): strings are
 * copied into static buffers, warnings are formatted on the stack and
 * written with write(2).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPT_STRING_MAX 512 /* bytes kept of a string option */

hak_config_t hak_config = {
#define HAK_OPT_INT(N, f, d, lo, hi, m) .f = (d),
#define HAK_OPT_DOUBLE(N, f, d, lo, hi, m) .f = (d),
#define HAK_OPT_BOOL(N, f, d, m) .f = (d),
#define HAK_OPT_STRING(N, f, d, m) .f = (d),
#define HAK_OPT_DLIST(N, f, d, m)
#include "options.def"
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#undef HAK_OPT_STRING
#undef HAK_OPT_DLIST
};

/* Storage of string options (getenv's pointers may be moved by setenv). */
#define HAK_OPT_INT(N, f, d, lo, hi, m)
#define HAK_OPT_DOUBLE(N, f, d, lo, hi, m)
#define HAK_OPT_BOOL(N, f, d, m)
#define HAK_OPT_STRING(N, f, d, m) static char opt_buf_##f[OPT_STRING_MAX];
#define HAK_OPT_DLIST(N, f, d, m)
#include "options.def"
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#undef HAK_OPT_STRING
#undef HAK_OPT_DLIST

static void opt_write_stderr(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(2, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void opt_warn(const char *name, const char *value, const char *range)
{
	char line[512];
	snprintf(line, sizeof line,
		 "hakmem: HAKMEM_%s=\"%s\" is invalid: expected %s; using the default\n", name,
		 value, range);
	opt_write_stderr(line);
}

static const char *opt_env(const char *name)
{
	char key[96];
	snprintf(key, sizeof key, "HAKMEM_%s", name);
	const char *v = getenv(key);
	return (v && *v) ? v : NULL;
}

static void opt_int(const char *name, const char *v, long *out, long lo, long hi)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || x < lo || x > hi) {
		char range[96];
		snprintf(range, sizeof range, "an integer from %ld to %ld", lo, hi);
		opt_warn(name, v, range);
		return;
	}
	*out = x;
}

static bool opt_parse_double(const char *v, double *out, double lo, double hi)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end != '\0' || !(x >= lo && x <= hi))
		return false;
	*out = x;
	return true;
}

static void opt_double(const char *name, const char *v, double *out, double lo, double hi)
{
	if (!opt_parse_double(v, out, lo, hi)) {
		char range[96];
		snprintf(range, sizeof range, "a number from %g to %g", lo, hi);
		opt_warn(name, v, range);
	}
}

static void opt_bool(const char *name, const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		opt_warn(name, v, "0 or 1");
}

static void opt_string(const char *v, const char **out, char *buf)
{
	snprintf(buf, OPT_STRING_MAX, "%s", v);
	*out = buf;
}

/* Parse "a,b,c" into `out`; false (out untouched) if any item is bad. */
static bool opt_parse_dlist(const char *v, hak_dlist_t *out)
{
	hak_dlist_t l = {0};
	char item[64];
	const char *p = v;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof item || l.n == HAK_DLIST_MAX)
			return false;
		memcpy(item, p, n);
		item[n] = '\0';
		if (!opt_parse_double(item, &l.v[l.n], 1.0, 2.0))
			return false;
		l.n++;
		p += n + (comma ? 1 : 0);
		if (comma && !*p)
			return false;
	}
	if (l.n == 0)
		return false;
	*out = l;
	return true;
}

static void opt_dlist(const char *name, const char *v, hak_dlist_t *out)
{
	if (!opt_parse_dlist(v, out))
		opt_warn(name, v, "a comma-separated list of at most 16 numbers from 1.0 to 2.0");
}

/* HAKMEM_MODE presets: applied to the defaults before the other variables. */
static void opt_apply_mode(void)
{
	const char *mode = hak_config.mode;
	if (!*mode)
		return;
	if (!strcmp(mode, "minimal")) {
		hak_config.learn = false;
		hak_config.wmax_learn = false;
	} else if (!strcmp(mode, "learning")) {
		hak_config.learn = true;
	} else {
		opt_warn("MODE", mode, "minimal, learning or unset");
		hak_config.mode = "";
	}
}

void hak_options_init(void)
{
	const char *v;
#define HAK_OPT_INT(N, f, d, lo, hi, m)
#define HAK_OPT_DOUBLE(N, f, d, lo, hi, m)
#define HAK_OPT_BOOL(N, f, d, m)
#define HAK_OPT_STRING(N, f, d, m)
#define HAK_OPT_DLIST(N, f, d, m) (void)opt_parse_dlist(d, &hak_config.f);
#include "options.def"
#undef HAK_OPT_DLIST
#undef HAK_OPT_STRING
	if ((v = opt_env("MODE")))
		opt_string(v, &hak_config.mode, opt_buf_mode);
	opt_apply_mode();
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#define HAK_OPT_INT(N, f, d, lo, hi, m)                                                            \
	if ((v = opt_env(#N)))                                                                     \
		opt_int(#N, v, &hak_config.f, lo, hi);
#define HAK_OPT_DOUBLE(N, f, d, lo, hi, m)                                                         \
	if ((v = opt_env(#N)))                                                                     \
		opt_double(#N, v, &hak_config.f, lo, hi);
#define HAK_OPT_BOOL(N, f, d, m)                                                                   \
	if ((v = opt_env(#N)))                                                                     \
		opt_bool(#N, v, &hak_config.f);
#define HAK_OPT_STRING(N, f, d, m)                                                                 \
	if ((v = opt_env(#N)) && strcmp(#N, "MODE"))                                               \
		opt_string(v, &hak_config.f, opt_buf_##f);
#define HAK_OPT_DLIST(N, f, d, m)                                                                  \
	if ((v = opt_env(#N)))                                                                     \
		opt_dlist(#N, v, &hak_config.f);
#include "options.def"
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#undef HAK_OPT_STRING
#undef HAK_OPT_DLIST
}

static void opt_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void hak_options_write_json(FILE *f)
{
	const char *sep = "";
	fputs("\"config\": {", f);
#define HAK_OPT_INT(N, f_, d, lo, hi, m)                                                           \
	fprintf(f, "%s\"HAKMEM_%s\": %ld", sep, #N, hak_config.f_);                                \
	sep = ", ";
#define HAK_OPT_DOUBLE(N, f_, d, lo, hi, m)                                                        \
	fprintf(f, "%s\"HAKMEM_%s\": %g", sep, #N, hak_config.f_);                                 \
	sep = ", ";
#define HAK_OPT_BOOL(N, f_, d, m)                                                                  \
	fprintf(f, "%s\"HAKMEM_%s\": %s", sep, #N, hak_config.f_ ? "true" : "false");              \
	sep = ", ";
#define HAK_OPT_STRING(N, f_, d, m)                                                                \
	fprintf(f, "%s\"HAKMEM_%s\": ", sep, #N);                                                  \
	opt_json_string(f, hak_config.f_);                                                         \
	sep = ", ";
#define HAK_OPT_DLIST(N, f_, d, m)                                                                 \
	fprintf(f, "%s\"HAKMEM_%s\": [", sep, #N);                                                 \
	for (int i = 0; i < hak_config.f_.n; i++)                                                  \
		fprintf(f, "%s%g", i ? ", " : "", hak_config.f_.v[i]);                             \
	fputc(']', f);                                                                             \
	sep = ", ";
#include "options.def"
#undef HAK_OPT_INT
#undef HAK_OPT_DOUBLE
#undef HAK_OPT_BOOL
#undef HAK_OPT_STRING
#undef HAK_OPT_DLIST
	fputc('}', f);
}
