/*
 * test_large_populate.c - a Large block's fresh pages are made resident at
 * malloc (src/large/populate.c) exactly when the program has been writing
 * its Large blocks whole and no other thread maps spans meanwhile:
 *   - a program that writes every block whole gets its next blocks
 *     populated, from the second on;
 *   - one that writes a page of each gets none populated;
 *   - one that stops writing whole is noticed within PROBE_EVERY blocks;
 *   - a block mapped just after another thread mapped one is left to
 *     fault, and populating resumes once that thread is quiet;
 *   - HAKMEM_LARGE_POPULATE=0 populates nothing.
 * "Populated" is read with mincore right after malloc: the pages of a
 * fresh block are resident before the program touched them. The whale
 * cache is off so that every block is a fresh mapping; each case runs in a
 * child process of its own (fresh state).
 */
#include <time.h>

#include "hakmem.h"
#include "whale_test.h"

#define BLOCK (8 * MB)

/* Are (nearly) all the pages of the block at p resident? */
static int resident(const void *p, size_t n)
{
	uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095, hi = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
	size_t pages = (hi - lo) / 4096, in = 0;
	unsigned char *v = malloc(pages);
	CHECK(v && mincore((void *)lo, hi - lo, v) == 0);
	for (size_t i = 0; i < pages; i++)
		in += v[i] & 1;
	free(v);
	return in * 100 >= pages * 99;
}

/* A block of BLOCK bytes: was it populated at malloc? Then written whole,
 * or only its first page. */
static char *block(int whole, int *populated)
{
	char *p = malloc(BLOCK);
	CHECK(p);
	*populated = resident(p, BLOCK);
	if (whole)
		(void)touch(p, BLOCK);
	else
		p[0] = 1;
	return p;
}

static void print_populated(const char *what, const int *pop, int n)
{
	printf("# %s: populated", what);
	for (int i = 0; i < n; i++)
		printf(" %d", pop[i]);
	printf("\n");
}

static void setup(void)
{
	hak_config.whale_cache = 0;
	CHECK(hak_config.large_populate); /* the default */
}

static void case_whole_writer(void)
{
	setup();
	char *b[7];
	int pop[7];
	for (int i = 0; i < 7; i++)
		b[i] = block(1, &pop[i]);
	print_populated("whole writer", pop, 7);
	CHECK(!pop[0]); /* nothing told yet */
	for (int i = 1; i < 7; i++)
		CHECK(pop[i]);
	for (int i = 0; i < 7; i++)
		free(b[i]);
}

static void case_sparse_writer(void)
{
	setup();
	char *b[7];
	long rss0 = 0;
	for (int i = 0; i < 7; i++) {
		int pop;
		b[i] = block(0, &pop);
		CHECK(!pop);
		if (i == 0)
			rss0 = faults();
	}
	printf("# sparse writer: %ld faults for 6 blocks of %zu pages\n", faults() - rss0, BLOCK / 4096);
	for (int i = 0; i < 7; i++)
		free(b[i]);
}

/* Two blocks written whole, then blocks of which a page is written: those
 * are populated until a probe among them answers (the 8th fresh block
 * since populating began), none after. */
static void case_change_noticed(void)
{
	setup();
	char *w[2], *s[12];
	int pw[2], ps[12];
	for (int i = 0; i < 2; i++)
		w[i] = block(1, &pw[i]);
	for (int i = 0; i < 12; i++)
		s[i] = block(0, &ps[i]);
	print_populated("change", ps, 12);
	CHECK(pw[1] && ps[0]);
	for (int i = 9; i < 12; i++)
		CHECK(!ps[i]);
	for (int i = 0; i < 2; i++)
		free(w[i]);
	for (int i = 0; i < 12; i++)
		free(s[i]);
}

static void *other_mapper(void *arg)
{
	(void)arg;
	char *p = malloc(BLOCK);
	CHECK(p);
	(void)touch(p, BLOCK);
	free(p);
	return NULL;
}

static void case_other_thread_maps(void)
{
	setup();
	int pop;
	char *a = block(1, &pop), *b = block(1, &pop);
	CHECK(pop);
	pthread_t t;
	/* A window no pause of a loaded machine outlasts: with the default 20 ms,
	 * a preemption between c's map and its populate decision would open
	 * the gate and fail this test for no fault of the allocator's. */
	hak_config.large_quiet_ms = 60000;
	CHECK(pthread_create(&t, NULL, other_mapper, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	char *c = block(1, &pop);
	CHECK(!pop); /* another thread mapped a span just now */
	hak_config.large_quiet_ms = 20;
	struct timespec quiet = {0, 60 * 1000 * 1000}; /* past the window: always open again */
	nanosleep(&quiet, NULL);
	char *d = block(1, &pop);
	CHECK(pop);
	free(a);
	free(b);
	free(c);
	free(d);
}

static void case_off(void)
{
	setup();
	hak_config.large_populate = 0;
	char *b[4];
	for (int i = 0; i < 4; i++) {
		int pop;
		b[i] = block(1, &pop);
		CHECK(!pop);
	}
	for (int i = 0; i < 4; i++)
		free(b[i]);
}

int main(void)
{
	run_case(case_whole_writer, "a program writing its Large blocks whole gets them populated");
	run_case(case_sparse_writer, "a program writing a page of each gets none populated");
	run_case(case_change_noticed, "a program that stops writing whole is noticed");
	run_case(case_other_thread_maps, "no populating right after another thread maps a span");
	run_case(case_off, "HAKMEM_LARGE_POPULATE=0 populates nothing");
	return 0;
}
