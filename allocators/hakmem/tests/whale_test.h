/*
 * whale_test.h - what the whale cache's tests (test_whale.c,
 * test_whale_keep.c, test_whale_room.c) share: page faults as the measure
 * of reuse, a touch that counts them, the cache's bound (live + cached <=
 * peak), and a case run in a child process of its own.
 */
#ifndef WHALE_TEST_H
#define WHALE_TEST_H

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define MB ((size_t)1 << 20)

/* Page faults are the measure of reuse, except under a sanitizer (its
 * shadow memory faults in too). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FEW_FAULTS(f, pages) ((void)(f), (void)(pages), 1)
#else
#define FEW_FAULTS(f, pages) ((f) < (long)(pages) / 8)
#endif

/* Minor page faults of this process so far. */
static inline long faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Write one byte per page; returns the page faults it took. */
static inline long touch(void *p, size_t n)
{
	long f0 = faults();
	for (size_t off = 0; off < n; off += 4096)
		((volatile char *)p)[off] = 1;
	return faults() - f0;
}

/* The whale cache's live and cached bytes, its bound checked on the way:
 * live + cached <= peak of held bytes. */
static inline void bounded_usage(int64_t *live, int64_t *cached)
{
	int64_t peak;
	hak_whale_usage(live, cached, &peak);
	CHECK(*live >= 0 && *cached >= 0);
	CHECK(*live + *cached <= peak);
}

/* The whale cache's bound holds. */
static inline void check_bound(void)
{
	int64_t live, cached;
	bounded_usage(&live, &cached);
}

/* A block of n bytes, touched: it must fault fewer than 1/8 of its pages
 * in (its pages come from cached mappings); the bound holds after. */
static inline char *malloc_reused(size_t n, const char *what)
{
	char *p = malloc(n);
	CHECK(p);
	long f = touch(p, n);
	printf("# %s: faults %ld for %zu pages\n", what, f, n / 4096);
	CHECK(FEW_FAULTS(f, n / 4096));
	check_bound();
	return p;
}

/* Run a case in a child process of its own (an empty cache, a peak of
 * zero); "ok <name>" when it passes. */
static inline void run_case(void (*fn)(void), const char *name)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(0);
	}
	int st = 0;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("ok %s\n", name);
}

#endif
