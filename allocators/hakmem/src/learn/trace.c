/*
 * trace.c - JSON text without malloc (a fixed buffer per object) and the
 * HAKMEM_LEARN_TRACE file: one object per line, each written with one
 * write(2) so lines from one process never interleave.
 *
 * Runs inside the allocator, so it must not allocate: no stdio streams,
 * only snprintf into the object's own buffer and open/write.
 *
 * Owns: the text format. Does not own: what a line says (learn.c).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "learn_internal.h"

static void json_put(hak_json_t *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void json_put(hak_json_t *j, const char *fmt, ...)
{
	if (j->full)
		return;
	size_t room = sizeof(j->buf) - j->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room - 2) { /* keep room for the closing brace */
		j->full = true;
		j->buf[j->len] = '\0';
		return;
	}
	j->len += (size_t)n;
}

/* Key with its separator; the key is a program constant (no escaping). */
static void json_key(hak_json_t *j, const char *key)
{
	json_put(j, "%s\"%s\": ", j->first ? "" : ", ", key);
	j->first = false;
}

void hak_json_begin(hak_json_t *j)
{
	j->len = 0;
	j->first = true;
	j->full = false;
	json_put(j, "{");
}

void hak_json_str(hak_json_t *j, const char *key, const char *val)
{
	json_key(j, key);
	json_put(j, "\"");
	for (const char *s = val; *s; s++) {
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

void hak_json_num(hak_json_t *j, const char *key, double val)
{
	json_key(j, key);
	if (val != val || val > 1e300 || val < -1e300)
		json_put(j, "null"); /* JSON has no NaN or infinity */
	else
		json_put(j, "%.6g", val);
}

void hak_json_u64(hak_json_t *j, const char *key, uint64_t val)
{
	json_key(j, key);
	json_put(j, "%llu", (unsigned long long)val);
}

void hak_json_bool(hak_json_t *j, const char *key, bool val)
{
	json_key(j, key);
	json_put(j, "%s", val ? "true" : "false");
}

void hak_json_raw(hak_json_t *j, const char *key, const char *json)
{
	json_key(j, key);
	json_put(j, "%s", json);
}

void hak_json_end(hak_json_t *j)
{
	if (j->full) { /* cut: close it as a valid object saying so */
		j->len = 0;
		j->full = false;
		j->first = true;
		json_put(j, "{");
		hak_json_bool(j, "truncated", true);
	}
	memcpy(j->buf + j->len, "}", 2);
	j->len++;
}

int hak_trace_open(const char *path)
{
	if (!path || !*path)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		char msg[512];
		int n = snprintf(
		    msg, sizeof(msg),
		    "hakmem: cannot open HAKMEM_LEARN_TRACE file %s; give a writable path.\n",
		    path);
		if (n > 0)
			(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	}
	return fd;
}

void hak_trace_write(int fd, const hak_json_t *j)
{
	if (fd < 0)
		return;
	char line[sizeof(j->buf) + 1];
	memcpy(line, j->buf, j->len);
	line[j->len] = '\n';
	(void)!write(fd, line, j->len + 1);
}
