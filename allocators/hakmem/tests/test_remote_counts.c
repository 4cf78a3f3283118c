/*
 * test_remote_counts.c - Tiny and Mid remote frees are counted per thread
 * (src/tiny/heap.c): the shared counters do not move on every remote free
 * (one shared line bumped by every remote free bounced between cores), and
 * every count is published by the time the freeing thread has exited, also
 * for a thread that never allocated (no heap) and one beyond the batch.
 */
#include <pthread.h>
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define NTINY 300 /* beyond one batch of 256 */
#define NMID 10

static void *tiny[NTINY], *mid[NMID];
static pthread_barrier_t bar;

static uint64_t tiny_count(void)
{
	return atomic_load(&hak_stats.tiny_remote_frees);
}

static uint64_t mid_count(void)
{
	return atomic_load(&hak_stats.mid_remote_frees);
}

/* Frees the main thread's blocks without allocating anything itself. */
static void *freer(void *arg)
{
	(void)arg;
	for (int i = 0; i < NMID; i++)
		free(mid[i]);
	for (int i = 0; i < 10; i++)
		free(tiny[i]);
	pthread_barrier_wait(&bar); /* 10 Tiny + 10 Mid remote frees, unpublished */
	pthread_barrier_wait(&bar);
	for (int i = 10; i < NTINY; i++)
		free(tiny[i]);
	return NULL;
}

static void test_counts_published(void)
{
	for (int i = 0; i < NTINY; i++)
		CHECK((tiny[i] = malloc(48)) != NULL);
	for (int i = 0; i < NMID; i++)
		CHECK((mid[i] = malloc(4096)) != NULL);
	uint64_t t0 = tiny_count(), m0 = mid_count();
	pthread_t th;
	pthread_barrier_init(&bar, NULL, 2);
	CHECK(pthread_create(&th, NULL, freer, NULL) == 0);
	pthread_barrier_wait(&bar);
	CHECK(tiny_count() == t0 && mid_count() == m0); /* kept by the thread */
	pthread_barrier_wait(&bar);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(tiny_count() == t0 + NTINY); /* all published at its exit */
	CHECK(mid_count() == m0 + NMID);
	/* the blocks came back: the owner drains them on its slow path */
	for (int i = 0; i < NTINY; i++)
		CHECK((tiny[i] = malloc(48)) != NULL);
	for (int i = 0; i < NTINY; i++)
		free(tiny[i]);
	printf("ok counts_published\n");
}

int main(void)
{
	free(malloc(16)); /* start-up, and the main thread's heap */
	test_counts_published();
	return 0;
}
