/*
 * test_profile.c - the per-phase profile of the timing build: phases
 * recorded from many threads (300 in turn, retiring their slots, then 300
 * at once, more than the slot table holds) are summed without a loss; the JSON and the stderr table
 * carry every phase with positive cycles, and the shares sum to 1.
 *
 *   test_profile 1 STATS   HAKMEM_TIMING=1: writes `{` "timing" `}` to STATS,
 *                          the table to stderr
 *   test_profile 0 STATS   HAKMEM_TIMING=0: records nothing, "enabled": false
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/core/config.h"
#include "../../src/profile/timing.h"

hak_config_t hak_config; /* the test is the option reader */

static __thread volatile uint64_t sink; /* per thread: the work itself must not race */

static void busy(int n)
{
	for (int i = 0; i < n; i++)
		sink += (uint64_t)i * 2654435761u;
}

/* Every phase once or more, nested like the allocator's. */
static void work(int rounds)
{
	for (int r = 0; r < rounds; r++) {
		for (int p = 0; p < HAK_PH_COUNT; p++) {
			HAK_TIME_BEGIN(t);
			busy(50 + 10 * p);
			HAK_TIME_END(hak_alloc, t);
			uint64_t t1 = hak_timing_now();
			busy(20);
			hak_timing_record((hak_phase_t)p, hak_timing_now() - t1 + 1);
		}
	}
}

static pthread_barrier_t all_alive;

static void *worker(void *arg)
{
	work(100);
	if (arg)
		hak_timing_thread_exit();
	return NULL;
}

/* Records while 300 threads live at once: more than the slot table holds. */
static void *crowd(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&all_alive);
	work(100);
	pthread_barrier_wait(&all_alive);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s 0|1 STATS\n", argv[0]);
		return 2;
	}
	hak_config.timing = atoi(argv[1]) != 0;
	work(100);
	/* 300 threads: a third retire their slot explicitly, the others through
	 * the profile's key destructor at exit; none is lost. */
	for (int i = 0; i < 300; i++) {
		pthread_t th;
		pthread_create(&th, NULL, worker, (void *)(intptr_t)(i % 3 == 0));
		pthread_join(th, NULL);
	}
	enum { CROWD = 300 };
	pthread_t th[CROWD];
	pthread_barrier_init(&all_alive, NULL, CROWD);
	for (int i = 0; i < CROWD; i++)
		pthread_create(&th[i], NULL, crowd, NULL);
	for (int i = 0; i < CROWD; i++)
		pthread_join(th[i], NULL);
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fputc('{', f);
	hak_timing_write_json(f);
	fputs("}\n", f);
	fclose(f);
	hak_timing_report();
	return 0;
}
