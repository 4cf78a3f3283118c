/*
 * touch.h - using the memory a workload gets, as real programs do, so that
 * an allocator cannot win by handing out memory that is never used.
 *
 * wl_touch writes a block: all of it below WL_TOUCH_BIG bytes; from there on
 * the first and last cache lines and one byte per page. The first 8 bytes
 * (when the block has them) hold `tag`, which another thread can read back.
 * wl_readback reads what wl_touch wrote and returns a value that depends
 * only on the size and the tag, never on the address, for the checksum.
 */
#ifndef WL_TOUCH_H
#define WL_TOUCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WL_TOUCH_BIG 4096 /* bytes: from here on, touch lines and pages only */
#define WL_LINE 64        /* bytes: a cache line */
#define WL_PAGE 4096      /* bytes: the page stride of big-block touches */

void wl_touch_big(unsigned char *p, size_t size, uint64_t tag);
uint64_t wl_readback_big(const unsigned char *p, size_t size);

/* Write the block p[0..size) (size >= 1) with `tag`. */
static inline void wl_touch(void *p, size_t size, uint64_t tag)
{
	unsigned char *c = (unsigned char *)p;
	if (size >= WL_TOUCH_BIG) {
		wl_touch_big(c, size, tag);
		return;
	}
	memset(c, (int)(tag & 0xff), size);
	if (size >= 8)
		memcpy(c, &tag, 8);
}

/* Read back a block written by wl_touch (size as given to it). */
static inline uint64_t wl_readback(const void *p, size_t size)
{
	const unsigned char *c = (const unsigned char *)p;
	if (size >= WL_TOUCH_BIG)
		return wl_readback_big(c, size);
	uint64_t v = 0;
	if (size >= 8)
		memcpy(&v, c, 8);
	else
		v = c[0];
	return v ^ ((uint64_t)c[size - 1] << 56) ^ size;
}

/* Read the tag from the first 8 bytes of a block of at least 8 bytes. */
static inline uint64_t wl_tag_of(const void *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#endif /* WL_TOUCH_H */
