/*
 * test_realloc_room.c - realloc growing a block to any L2.5 size below
 * 1 MiB (src/core/api.c, REALLOC_ROOM_MIN) gets room to the next power of
 * two, so that a buffer growing by appends or by x1.5 moves once per
 * doubling, not once per class (4 per doubling); the contents survive every
 * move, and growth within the room stays in place.
 */
#include <malloc.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

static void test_room_from_l25_bottom(void)
{
	unsigned char *p = malloc(HAK_SMALL_MAX); /* Mid's largest */
	CHECK(p);
	pat_fill(p, HAK_SMALL_MAX, 3);
	p = realloc(p, HAK_SMALL_MAX + 100); /* into L2.5: room to 64 KiB */
	CHECK(p && malloc_usable_size(p) >= ((size_t)64 << 10));
	CHECK(pat_check(p, HAK_SMALL_MAX, 3));
	unsigned char *q = realloc(p, (size_t)60 << 10);
	CHECK(q == p); /* in place */
	free(q);
	printf("ok room_from_l25_bottom\n");
}

static void test_moves_per_doubling(void)
{
	/* appends of 4 KiB from 40 KiB to 256 KiB: one move per doubling
	 * (to 64, 128, 256 KiB), not one per class */
	size_t size = (size_t)40 << 10;
	unsigned char *p = malloc(size);
	CHECK(p);
	pat_fill(p, size, 5);
	int moves = 0;
	while (size + 4096 <= ((size_t)256 << 10)) {
		unsigned char *q = realloc(p, size + 4096);
		CHECK(q);
		CHECK(pat_check(q, (size_t)40 << 10, 5));
		moves += q != p;
		p = q;
		size += 4096;
	}
	CHECK(moves <= 3);
	free(p);
	printf("ok moves_per_doubling (%d moves)\n", moves);
}

int main(void)
{
	free(malloc(16)); /* start-up */
	test_room_from_l25_bottom();
	test_moves_per_doubling();
	return 0;
}
