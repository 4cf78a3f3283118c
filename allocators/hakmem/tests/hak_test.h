/*
 * hak_test.h - the few helpers hakmem's C unit tests share: CHECK (prints
 * the failing expression and exits 1), pattern fill/verify, RSS.
 * A test program prints "ok <name>" lines and exits 0 when all pass.
 */
#ifndef HAK_TEST_H
#define HAK_TEST_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(e)                                                                                   \
	do {                                                                                       \
		if (!(e)) {                                                                        \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #e);                \
			fflush(stderr);                                                            \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

/* Fill n bytes at p with a pattern derived from `seed`. */
static inline void pat_fill(void *p, size_t n, uint32_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* 1 if the n bytes at p still hold pat_fill's pattern for `seed`. */
static inline int pat_check(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != (uint8_t)(seed * 31u + i * 7u + (i >> 8)))
			return 0;
	return 1;
}

/* Run fn(arg) in a new thread and wait until it has exited (its thread
 * exit hooks have run). */
static inline void run_in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, fn, arg) == 0);
	CHECK(pthread_join(t, NULL) == 0);
}

/* Resident set size of this process, bytes. */
static inline size_t rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = 0;
	fclose(f);
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* An array of n pointers outside the allocator under test. */
static inline void **mmap_array(size_t n)
{
	void *p = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

static inline void munmap_array(void **v, size_t n)
{
	munmap(v, n * sizeof(void *));
}

#define OK(name) printf("ok %s\n", name)

/* The main of a test of the debug counters or of what only the debug and
 * timing builds have, compiled where they are absent (the sanitizer builds
 * compile every unit test without HAKMEM_DEBUG): it passes, saying so. */
#define NOT_IN_THIS_BUILD_MAIN(what)                                                               \
	int main(void)                                                                             \
	{                                                                                          \
		OK(what "_not_in_this_build");                                                     \
		return 0;                                                                          \
	}

/* Unbuffered stdout: "ok" lines survive a CHECK's _exit. */
__attribute__((constructor)) static void hak_test_unbuffer(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
}

#endif /* HAK_TEST_H */
