/*
 * stats_probe.c - not a unit test by itself: allocates and frees in every
 * tier (and from a second thread), then writes the statistics file to
 * argv[1] with hak_stats_write. test_hakmem.py runs it to check the file's
 * contents and the option warnings. `stats_probe PATH crash` dereferences
 * NULL instead (crash-message test); `stats_probe PATH own-handler` does it
 * with its own SIGSEGV handler installed, which must be the one that runs.
 * Other modes run one pattern whose counters test_hakmem.py checks:
 *   l25-thread  a new thread's 64 KiB alloc/free cycles (its thread cache)
 *   whale       alloc/free cycles of 1.76 - 2.24 MiB (whale reuse across the threshold)
 *   refill-cycles  10 rounds of 16 MiB of Mid blocks allocated, then freed
 *   fungible    a freed 512 KiB block, then a 40 KiB request (pool reuse)
 *   early       3 free(NULL), 2 malloc(0), realloc(NULL, n), realloc(p, 0),
 *               an overflowing calloc (the debug counters' early returns)
 */
#include <pthread.h>
#include <signal.h>

#include "hakmem.h"
#include "hak_test.h"

static void own_handler(int sig)
{
	(void)sig;
	_exit(7);
}

static void *remote_free(void *p)
{
	free(p);
	return NULL;
}

static void *l25_cycles(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		void *p = malloc(65536);
		CHECK(p);
		memset(p, 1, 65536);
		free(p);
	}
	return NULL;
}

static int special_mode(const char *path, const char *mode)
{
	if (!strcmp(mode, "l25-thread")) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, l25_cycles, NULL) == 0);
		CHECK(pthread_join(t, NULL) == 0);
	} else if (!strcmp(mode, "whale")) {
		uint32_t s = 1;
		for (int i = 0; i < 100; i++) {
			s = s * 1103515245u + 12345u;
			size_t n = (1800u << 10) + (s >> 8) % (490u << 10); /* 2 MiB +- 12 % */
			char *p = malloc(n);
			CHECK(p);
			p[0] = p[n - 1] = 1;
			free(p);
		}
	} else if (!strcmp(mode, "refill-cycles")) {
		static void *v[2000];
		for (int round = 0; round < 10; round++) {
			for (int i = 0; i < 2000; i++) {
				v[i] = malloc(8192);
				CHECK(v[i]);
				memset(v[i], 3, 8192);
			}
			for (int i = 0; i < 2000; i++)
				free(v[i]);
		}
	} else if (!strcmp(mode, "early")) {
		for (int i = 0; i < 3; i++)
			free(NULL);
		for (int i = 0; i < 2; i++)
			free(malloc(0));
		void *p = realloc(NULL, 10);
		CHECK(p);
		CHECK(realloc(p, 0) == NULL);
		CHECK(calloc(SIZE_MAX / 8, 16) == NULL);
	} else if (!strcmp(mode, "fungible")) {
		void *big = malloc(512u << 10);
		CHECK(big);
		free(big);
		void *small = malloc(40000);
		CHECK(small);
		free(small);
	} else {
		if (!strcmp(mode, "own-handler"))
			signal(SIGSEGV, own_handler);
		volatile int *null = NULL;
		return *null;
	}
	CHECK(hak_stats_write(path) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	CHECK(argc >= 2);
	if (argc > 2)
		return special_mode(argv[1], argv[2]);
	static const size_t sizes[] = {8, 100, 1000, 3000, 30000, 100000, 1u << 20, 5u << 20};
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (int k = 0; k < 3; k++) {
			void *p = malloc(sizes[i]);
			CHECK(p);
			memset(p, 1, sizes[i]);
			free(p);
		}
	}
	void *p = malloc(64);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, remote_free, p) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK(hak_stats_write(argv[1]) == 0);
	return 0;
}
