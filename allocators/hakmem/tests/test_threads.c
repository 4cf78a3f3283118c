/*
 * test_threads.c - hakmem under threads: frees from a thread other than the
 * allocator (every tier), a multithreaded stress test with pattern-filled
 * blocks that detects corruption, threads that exit while others still hold
 * their blocks (their heaps are adopted), fork while other threads run (the
 * child allocates and frees).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "hakmem.h"
#include "hak_test.h"

static size_t size_of(uint32_t r)
{
	switch (r % 16) {
	case 0:
		return 32768 + r % 200000; /* L2.5 */
	case 1:
		return 1024 + r % 31744; /* Mid */
	case 2:
		if (r % 64 == 2)
			return (2u << 20) + r % 100000; /* Large */
		/* fall through */
	default:
		return 1 + r % 1024; /* Tiny */
	}
}

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* --- remote frees ------------------------------------------------------- */
#define XFER 20000
static void *xfer_blocks[XFER];
static size_t xfer_sizes[XFER];

static void *producer(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg;
	for (int i = 0; i < XFER; i++) {
		size_t n = size_of(xorshift(&s));
		xfer_blocks[i] = malloc(n);
		CHECK(xfer_blocks[i]);
		xfer_sizes[i] = n;
		pat_fill(xfer_blocks[i], n < 256 ? n : 256, (uint32_t)i);
	}
	return NULL;
}

static void test_remote_frees(void)
{
	for (int round = 0; round < 3; round++) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, producer, (void *)(uintptr_t)(round * 7 + 1)) == 0);
		CHECK(pthread_join(t, NULL) == 0);
		/* the producer exited: its blocks are freed here, remotely */
		for (int i = 0; i < XFER; i++) {
			size_t n = xfer_sizes[i];
			CHECK(pat_check(xfer_blocks[i], n < 256 ? n : 256, (uint32_t)i));
			free(xfer_blocks[i]);
		}
	}
	OK("frees from another thread, after the allocating thread exited");
}

/* --- stress: blocks handed between threads, patterns checked ------------ */
#define SLOTS 4096
#define STRESS_THREADS 4
static _Atomic(void *) slots[SLOTS];
static _Atomic int stress_fail;

static void *stress_worker(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	for (int i = 0; i < 60000; i++) {
		uint32_t r = xorshift(&s);
		unsigned k = r % SLOTS;
		size_t n = size_of(xorshift(&s));
		if (n > 300000)
			n = 300000;
		uint32_t *p = malloc(n < 16 ? 16 : n);
		CHECK(p);
		p[0] = (uint32_t)n;
		p[1] = r;
		pat_fill(p + 2, (n < 16 ? 16 : n) - 8 < 512 ? (n < 16 ? 16 : n) - 8 : 512, r);
		void *old = atomic_exchange(&slots[k], p);
		if (old) {
			uint32_t *o = old;
			size_t on = o[0];
			size_t span = (on < 16 ? 16 : on) - 8;
			if (!pat_check(o + 2, span < 512 ? span : 512, o[1]))
				atomic_store(&stress_fail, 1);
			free(old);
		}
	}
	return NULL;
}

static void test_stress(void)
{
	pthread_t t[STRESS_THREADS];
	for (int i = 0; i < STRESS_THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, stress_worker, (void *)(uintptr_t)(i + 1)) == 0);
	for (int i = 0; i < STRESS_THREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	CHECK(atomic_load(&stress_fail) == 0);
	for (int k = 0; k < SLOTS; k++)
		free(atomic_exchange(&slots[k], NULL));
	OK("multithreaded stress with pattern checks");
}

/* --- threads exiting while others hold their blocks; heaps adopted ------- */
static void *short_lived(void *arg)
{
	void **out = arg;
	for (int i = 0; i < 1000; i++) {
		out[i] = malloc(16 + (size_t)(i % 200) * 8);
		CHECK(out[i]);
		pat_fill(out[i], 16, (uint32_t)i);
	}
	/* some freed locally, the rest left to the main thread */
	for (int i = 0; i < 1000; i += 3) {
		free(out[i]);
		out[i] = NULL;
	}
	return NULL;
}

static void test_exit_while_held(void)
{
	static void *held[50][1000];
	for (int g = 0; g < 50; g++) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, short_lived, held[g]) == 0);
		CHECK(pthread_join(t, NULL) == 0);
		if (g % 2) /* free the previous generation's while new threads adopt heaps */
			for (int i = 0; i < 1000; i++)
				if (held[g - 1][i]) {
					CHECK(pat_check(held[g - 1][i], 16, (uint32_t)i));
					free(held[g - 1][i]);
				}
	}
	for (int g = 1; g < 50; g += 2)
		for (int i = 0; i < 1000; i++)
			if (held[g][i]) {
				CHECK(pat_check(held[g][i], 16, (uint32_t)i));
				free(held[g][i]);
			}
	OK("threads exit while others hold their blocks");
}

/* --- fork with threads running ------------------------------------------- */
static _Atomic int spin_stop;

static void *spinner(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg;
	while (!atomic_load(&spin_stop)) {
		void *p = malloc(size_of(xorshift(&s)) % 70000 + 1);
		CHECK(p);
		free(p);
	}
	return NULL;
}

static void test_fork_with_threads(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, spinner, (void *)(uintptr_t)(i + 11)) == 0);
	for (int k = 0; k < 20; k++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			uint32_t s = 99;
			void *a[1000];
			for (int i = 0; i < 500; i++) {
				a[i] = malloc(size_of(xorshift(&s)) % 100000 + 1);
				if (!a[i])
					_exit(2);
			}
			for (int i = 0; i < 500; i++)
				free(a[i]);
			pthread_t ct;
			if (pthread_create(&ct, NULL, short_lived, a) != 0 ||
			    pthread_join(ct, NULL) != 0)
				_exit(3);
			_exit(0);
		}
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	atomic_store(&spin_stop, 1);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	OK("fork while threads allocate; the child allocates and frees");
}

int main(void)
{
	test_remote_frees();
	test_stress();
	test_exit_while_held();
	test_fork_with_threads();
	CHECK(hak_foreign_requests() == 0);
	return 0;
}
