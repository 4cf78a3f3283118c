/*
 * fault_cost.c - a diagnostic, not a workload: what making a fresh page
 * resident costs on this machine, by one page fault per page (the first
 * write to each page of a fresh mapping) against one
 * madvise(MADV_POPULATE_WRITE) per chunk of pages before the writes (what
 * hakmem's slab carve does: HAKMEM_POPULATE_KB). Needs Linux 5.14 for the
 * populate.
 *
 *   gcc -O2 -o /tmp/fault_cost allocators/hakmem/tools/fault_cost.c
 *   /tmp/fault_cost [MiB per pass, default 128] [passes, default 3]
 *
 * Prints one line per pass and chunk size: "chunk <KiB> ns/page <ns>"
 * (chunk 0: no populate, a fault per page).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE 4096u

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Write a byte to every page of a fresh mapping of `size` bytes, populating
 * `chunk` bytes at a time first (0: never); ns per page. */
static double pass(size_t size, size_t chunk)
{
	volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("fault_cost: mmap");
		exit(1);
	}
	double t0 = now();
	for (size_t off = 0; off < size; off += PAGE) {
		if (chunk && off % chunk == 0 && madvise((char *)p + off, chunk, MADV_POPULATE_WRITE)) {
			perror("fault_cost: madvise(MADV_POPULATE_WRITE)");
			exit(1);
		}
		p[off] = 1;
	}
	double ns = (now() - t0) / (double)(size / PAGE) * 1e9;
	munmap((void *)p, size);
	return ns;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 128;
	int passes = argc > 2 ? atoi(argv[2]) : 3;
	if (mib == 0 || passes <= 0) {
		fprintf(stderr, "usage: fault_cost [MiB per pass > 0] [passes > 0]\n");
		return 2;
	}
	static const size_t chunks[] = {0, 16384, 65536, 262144};
	for (int r = 0; r < passes; r++)
		for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
			printf("chunk %zu ns/page %.0f\n", chunks[i] / 1024, pass(mib << 20, chunks[i]));
	return 0;
}
