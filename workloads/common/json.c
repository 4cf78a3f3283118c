/*
 * json.c - the result line's JSON writer (no allocation, fixed buffer).
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static void json_put(wl_json_t *j, const char *fmt, ...)
{
	if (j->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, j->cap - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->cap - j->len) {
		j->overflow = 1;
		j->buf[j->len] = '\0';
		return;
	}
	j->len += (size_t)n;
}

static void json_string(wl_json_t *j, const char *s)
{
	json_put(j, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			json_put(j, "\\%c", c);
		else if (c < 0x20)
			json_put(j, "\\u%04x", c);
		else
			json_put(j, "%c", c);
	}
	json_put(j, "\"");
}

static void json_key(wl_json_t *j, const char *key)
{
	if (!j->first[j->depth])
		json_put(j, ",");
	j->first[j->depth] = 0;
	json_string(j, key);
	json_put(j, ":");
}

void wl_json_begin(wl_json_t *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->depth = 0;
	j->overflow = 0;
	j->first[0] = 1;
	buf[0] = '\0';
	json_put(j, "{");
}

void wl_json_object(wl_json_t *j, const char *key)
{
	json_key(j, key);
	json_put(j, "{");
	if (j->depth + 1 < WL_JSON_DEPTH)
		j->first[++j->depth] = 1;
	else
		j->overflow = 1;
}

void wl_json_close(wl_json_t *j)
{
	json_put(j, "}");
	if (j->depth > 0)
		j->depth--;
}

void wl_json_str(wl_json_t *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j, value);
}

void wl_json_int(wl_json_t *j, const char *key, int64_t value)
{
	json_key(j, key);
	json_put(j, "%lld", (long long)value);
}

void wl_json_num(wl_json_t *j, const char *key, double value)
{
	json_key(j, key);
	if (!isfinite(value))
		json_put(j, "null");
	else if (value == (double)(int64_t)value && fabs(value) < 9e15)
		json_put(j, "%lld", (long long)value);
	else
		json_put(j, "%.9g", value);
}

long wl_json_end(wl_json_t *j)
{
	while (j->depth > 0)
		wl_json_close(j);
	json_put(j, "}\n");
	return j->overflow ? -1 : (long)j->len;
}
