/*
 * fault_cost.c - a diagnostic, not a workload: what making a fresh page
 * resident costs on this machine, by one page fault per page (the first
 * write to each page of a fresh mapping) against one
 * madvise(MADV_POPULATE_WRITE) per chunk of pages before the writes (what
 * hakmem's slab carve does, HAKMEM_POPULATE_KB, and its Large blocks,
 * HAKMEM_LARGE_POPULATE, with the whole range). With more threads, each
 * maps, writes and unmaps its own memory at the same time: a populate
 * holds the address space's lock while the others' mmap and munmap wait
 * (docs/PERFORMANCE.md, "large at 1 thread: fresh pages populated").
 * Needs Linux 5.14 for the populate (exit status 3 without it).
 *
 *   gcc -O2 -pthread -o /tmp/fault_cost allocators/hakmem/tools/fault_cost.c
 *   /tmp/fault_cost [MiB per pass, default 128] [passes, default 3] [threads, default 1]
 *
 * Prints one line per pass and chunk size: "threads <n> chunk <KiB> ns/page
 * <ns>" (chunk 0: no populate, a fault per page; "all": one populate of
 * the whole mapping), the wall time of all threads' passes over the pages
 * of one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
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
 * `chunk` bytes at a time first (0: never), then unmap it. */
static void pass(size_t size, size_t chunk)
{
	volatile char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("fault_cost: mmap");
		exit(1);
	}
	for (size_t off = 0; off < size; off += PAGE) {
		if (chunk && off % chunk == 0 &&
		    madvise((char *)p + off, chunk < size - off ? chunk : size - off, MADV_POPULATE_WRITE)) {
			if (errno == EINVAL) {
				fprintf(stderr, "fault_cost: this kernel has no MADV_POPULATE_WRITE (Linux 5.14 and later)\n");
				exit(3);
			}
			perror("fault_cost: madvise(MADV_POPULATE_WRITE)");
			exit(1);
		}
		p[off] = 1;
	}
	munmap((void *)p, size);
}

#define SLICES 8 /* a thread's pass is this many mappings, mapped and unmapped in turn */

static size_t run_size, run_chunk;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < SLICES; i++)
		pass(run_size / SLICES, run_chunk);
	return NULL;
}

/* All threads' passes at once; ns per page of one thread's pass. */
static double run(int threads, size_t size, size_t chunk)
{
	pthread_t id[64];
	run_size = size;
	run_chunk = chunk;
	double t0 = now();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&id[i], NULL, worker, NULL)) {
			fprintf(stderr, "fault_cost: cannot start a thread\n");
			exit(1);
		}
	for (int i = 0; i < threads; i++)
		pthread_join(id[i], NULL);
	return (now() - t0) / (double)(size / PAGE) * 1e9;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 128;
	int passes = argc > 2 ? atoi(argv[2]) : 3;
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	if (mib < SLICES || passes <= 0 || threads <= 0 || threads > 64) {
		fprintf(stderr, "usage: fault_cost [MiB per pass >= %d] [passes > 0] [threads 1 - 64]\n", SLICES);
		return 2;
	}
	size_t size = (mib << 20) / SLICES * SLICES;
	static const size_t chunks[] = {0, 16384, 65536, 262144, 2097152, SIZE_MAX};
	for (int r = 0; r < passes; r++)
		for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
			double ns = run(threads, size, chunks[i] == SIZE_MAX ? size / SLICES : chunks[i]);
			if (chunks[i] == SIZE_MAX)
				printf("threads %d chunk all ns/page %.0f\n", threads, ns);
			else
				printf("threads %d chunk %zu ns/page %.0f\n", threads, chunks[i] / 1024, ns);
		}
	return 0;
}
