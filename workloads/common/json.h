/*
 * json.h - a small JSON object writer into a caller's fixed buffer, for the
 * result line. It never allocates, so the out-of-memory path can use it.
 * Keys and strings are escaped; non-finite numbers become null. A buffer
 * too small for the output is reported by wl_json_end (returns -1).
 */
#ifndef WL_JSON_H
#define WL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define WL_JSON_DEPTH 8 /* nesting levels of objects */

typedef struct wl_json {
	char *buf;                  /* output, NUL-terminated */
	size_t cap;                 /* bytes of buf */
	size_t len;                 /* bytes written so far */
	int depth;                  /* open objects */
	int overflow;               /* 1 once the buffer was too small */
	int first[WL_JSON_DEPTH];   /* 1 while an object has no member yet */
} wl_json_t;

/* Start the top-level object in buf[0..cap). */
void wl_json_begin(wl_json_t *j, char *buf, size_t cap);
/* Open a nested object as member `key`. */
void wl_json_object(wl_json_t *j, const char *key);
/* Close the innermost open object. */
void wl_json_close(wl_json_t *j);
void wl_json_str(wl_json_t *j, const char *key, const char *value);
void wl_json_int(wl_json_t *j, const char *key, int64_t value);
void wl_json_num(wl_json_t *j, const char *key, double value);
/* Close every open object and add a newline. Returns the length, or -1 if
 * the buffer was too small. */
long wl_json_end(wl_json_t *j);

#endif /* WL_JSON_H */
