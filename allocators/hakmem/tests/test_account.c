/*
 * test_account.c - hak_account_print (the debug builds' resident-memory
 * account, profile/account.c) sorts a class's blocks by who holds them:
 * the program, the thread's Mid cache, another thread's remote free not
 * yet drained; their pages are resident and the heap's row adds up. The
 * account exists in the debug and timing builds only: the sanitizer
 * builds, which compile every unit test without HAKMEM_DEBUG, skip it.
 */
#include <stdlib.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#ifdef HAK_DEBUG_STATS
enum { BLOCK = 32768, N = 20, FREED = 5, REMOTE = 3 };

typedef struct {
	unsigned long long pages, empty, resident, live, cached, listed, remote;
	long long other;
} row_t;

/* The row named `name` of the account in text, or 0 if none. */
static int find_row(const char *text, const char *name, row_t *r)
{
	char want[32];
	snprintf(want, sizeof(want), "\n%s ", name);
	const char *p = strstr(text, want);
	if (!p)
		return 0;
	char got[32];
	return sscanf(p + 1, "%31s %llu %llu %llu %llu %llu %llu %llu %lld", got, &r->pages,
		      &r->empty, &r->resident, &r->live, &r->cached, &r->listed, &r->remote,
		      &r->other) == 9;
}

static void *free_all(void *arg)
{
	void **b = arg;
	for (int i = 0; i < REMOTE; i++)
		free(b[i]);
	return NULL;
}

int main(void)
{
	/* before the remote frees: its allocation's slow path would drain them */
	FILE *f = tmpfile();
	CHECK(f != NULL);
	void *b[N];
	for (int i = 0; i < N; i++) {
		CHECK((b[i] = malloc(BLOCK)) != NULL);
		pat_fill(b[i], BLOCK, (uint32_t)i);
	}
	for (int i = 0; i < FREED; i++)
		free(b[i]); /* into this thread's Mid cache */
	run_in_thread(free_all, &b[FREED]); /* remote frees, not yet drained */

	hak_account_print(fileno(f));
	char text[16384] = "\n";
	rewind(f);
	size_t n = fread(text + 1, 1, sizeof(text) - 2, f);
	text[n + 1] = 0;
	fclose(f);

	row_t c, h;
	CHECK(find_row(text, "32768", &c));
	CHECK(c.live == (N - FREED - REMOTE) * BLOCK / 1024);
	CHECK(c.cached == FREED * BLOCK / 1024);
	CHECK(c.remote == REMOTE * BLOCK / 1024);
	CHECK(c.listed == 0 && c.empty == 0);
	CHECK(c.pages * (1u << HAK_MID_SLAB_SHIFT) >= (unsigned long long)N * BLOCK);
	CHECK(c.resident >= N * BLOCK / 1024 && c.other >= 0);
	CHECK(find_row(text, "h0", &h) && h.live >= c.live && h.remote >= c.remote);
	CHECK(find_row(text, "classes", &h) && h.other >= 0);
	long rss = 0;
	const char *v = strstr(text, "VmRSS ");
	CHECK(v && sscanf(v, "VmRSS %ld", &rss) == 1 && rss > 0);
	printf("ok account_sorts_blocks_by_holder\n");

	for (int i = REMOTE + FREED; i < N; i++)
		CHECK(pat_check(b[i], BLOCK, (uint32_t)i));
	for (int i = REMOTE + FREED; i < N; i++)
		free(b[i]);
	return 0;
}
#else
NOT_IN_THIS_BUILD_MAIN("account")
#endif
