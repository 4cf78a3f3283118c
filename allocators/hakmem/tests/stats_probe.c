/*
 * stats_probe.c - not a unit test by itself: allocates and frees in every
 * tier (and from a second thread), then writes the statistics file to
 * argv[1] with hak_stats_write. test_hakmem.py runs it to check the file's
 * contents and the option warnings. `stats_probe PATH crash` dereferences
 * NULL instead (crash-message test); `stats_probe PATH own-handler` does it
 * with its own SIGSEGV handler installed, which must be the one that runs.
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

int main(int argc, char **argv)
{
	CHECK(argc >= 2);
	if (argc > 2 && !strcmp(argv[2], "own-handler"))
		signal(SIGSEGV, own_handler);
	if (argc > 2) {
		volatile int *null = NULL;
		return *null;
	}
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
