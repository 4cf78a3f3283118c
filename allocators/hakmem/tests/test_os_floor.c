/*
 * test_os_floor.c - 2 MiB-aligned maps go just below the previous one
 * (src/core/os.c, os_floor): the kernel places maps top-down, so the range
 * below the last map is where a hinted map succeeds in one system call.
 * Consecutive maps of up to 2 MiB take consecutive slots downwards, each
 * map can still grow in place to its whole 2 MiB slot, and threads mapping
 * at the same time get disjoint slots.
 */
#include <pthread.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define SLOT HAK_SEG_SIZE
#define NMAP 32
#define NTHR 4

static size_t size_of(int i)
{
	return (size_t)(i % 8 + 1) * 3 * HAK_PAGE; /* 12 KiB .. 96 KiB */
}

static void test_maps_go_down(void)
{
	uint8_t *p[NMAP];
	int adjacent = 0;
	for (int i = 0; i < NMAP; i++) {
		p[i] = hak_os_map_aligned(size_of(i), SLOT, 0);
		CHECK(p[i]);
		CHECK(((uintptr_t)p[i] & (SLOT - 1)) == 0);
		pat_fill(p[i], size_of(i), (uint32_t)i);
		if (i > 0 && p[i] + SLOT == p[i - 1])
			adjacent++;
	}
	/* all but a few (another mapping in the way) take the slot below */
	CHECK(adjacent >= NMAP - 4);
	/* each grows in place to its whole slot: nothing was put above it */
	for (int i = 0; i < NMAP; i++) {
		CHECK(hak_os_grow_in_place(p[i], size_of(i), SLOT) == 0);
		p[i][SLOT - 1] = 1;
		CHECK(pat_check(p[i], size_of(i), (uint32_t)i));
		hak_os_unmap(p[i], SLOT);
	}
	printf("ok maps_go_down (%d of %d in the slot below the previous)\n", adjacent, NMAP - 1);
}

static uint8_t *tmaps[NTHR][NMAP];

static void *map_many(void *arg)
{
	int t = (int)(intptr_t)arg;
	for (int i = 0; i < NMAP; i++) {
		tmaps[t][i] = hak_os_map_aligned(size_of(i), SLOT, 0);
		if (tmaps[t][i])
			pat_fill(tmaps[t][i], size_of(i), (uint32_t)(t * NMAP + i));
	}
	return NULL;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

static void test_threads_disjoint(void)
{
	pthread_t th[NTHR];
	for (int t = 0; t < NTHR; t++)
		CHECK(pthread_create(&th[t], NULL, map_many, (void *)(intptr_t)t) == 0);
	for (int t = 0; t < NTHR; t++)
		pthread_join(th[t], NULL);
	static uintptr_t all[NTHR * NMAP];
	for (int t = 0; t < NTHR; t++)
		for (int i = 0; i < NMAP; i++) {
			CHECK(tmaps[t][i]);
			CHECK(((uintptr_t)tmaps[t][i] & (SLOT - 1)) == 0);
			CHECK(pat_check(tmaps[t][i], size_of(i), (uint32_t)(t * NMAP + i)));
			all[t * NMAP + i] = (uintptr_t)tmaps[t][i];
		}
	qsort(all, NTHR * NMAP, sizeof all[0], cmp_ptr);
	for (int k = 1; k < NTHR * NMAP; k++)
		CHECK(all[k] >= all[k - 1] + SLOT); /* one slot each */
	for (int t = 0; t < NTHR; t++)
		for (int i = 0; i < NMAP; i++)
			hak_os_unmap(tmaps[t][i], size_of(i));
	printf("ok threads_disjoint\n");
}

int main(void)
{
	free(malloc(16)); /* start-up */
	test_maps_go_down();
	test_threads_disjoint();
	return 0;
}
