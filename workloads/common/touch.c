/*
 * touch.c - the big-block half of touch.h: first and last cache lines plus
 * one byte per page, each page's byte read back.
 */
#include "touch.h"

void wl_touch_big(unsigned char *p, size_t size, uint64_t tag)
{
	unsigned char b = (unsigned char)(tag & 0xff);
	memset(p, b, WL_LINE);
	memset(p + size - WL_LINE, b, WL_LINE);
	for (size_t off = WL_PAGE; off < size; off += WL_PAGE)
		p[off] = (unsigned char)(b + (off / WL_PAGE));
	memcpy(p, &tag, 8);
}

uint64_t wl_readback_big(const unsigned char *p, size_t size)
{
	uint64_t v;
	memcpy(&v, p, 8);
	uint64_t pages = 0;
	for (size_t off = WL_PAGE; off < size - WL_LINE; off += WL_PAGE)
		pages += p[off];
	return v ^ ((uint64_t)p[size - 1] << 56) ^ (pages << 20) ^ size;
}
