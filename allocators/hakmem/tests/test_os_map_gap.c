/*
 * test_os_map_gap.c - 2 MiB-aligned maps that fill their slots (SuperSlab
 * batches, whole-slot spans) stay separate areas of the address space
 * (src/core/os.c): the map below the floor leaves one slot free rather
 * than end where the previous one begins, because adjacent anonymous maps
 * merge into one area and the kernel extends an area only once the page
 * faults in it have finished (threads faulting in the heap held every new
 * map up). Checked in /proc/self/maps: each map is an area of its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define SLOT HAK_SEG_SIZE
#define NMAP 6

/* True when /proc/self/maps has an area exactly [p, p + size). */
static bool own_area(const uint8_t *p, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	char line[512];
	bool found = false;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			found = lo == (uintptr_t)p && hi == (uintptr_t)p + size;
	}
	fclose(f);
	return found;
}

static void test_whole_slot_maps_stay_apart(size_t size)
{
	uint8_t *p[NMAP];
	for (int i = 0; i < NMAP; i++) {
		p[i] = hak_os_map_aligned(size, SLOT, 0);
		CHECK(p[i]);
		CHECK(((uintptr_t)p[i] & (SLOT - 1)) == 0);
		pat_fill(p[i], HAK_PAGE, (uint32_t)i);
	}
	/* the first may join whatever lay above it; the others are the fast
	 * path's maps below the floor */
	for (int i = 1; i < NMAP; i++) {
		CHECK(p[i] + size != p[i - 1]);
		CHECK(own_area(p[i], size));
	}
	for (int i = 0; i < NMAP; i++) {
		CHECK(pat_check(p[i], HAK_PAGE, (uint32_t)i));
		hak_os_unmap(p[i], size);
	}
	printf("ok whole_slot_maps_stay_apart (%zu KiB)\n", size >> 10);
}

int main(void)
{
	free(malloc(16)); /* start-up */
	test_whole_slot_maps_stay_apart(SLOT);
	test_whole_slot_maps_stay_apart(4 * SLOT);
	return 0;
}
