/*
 * test_os_populate_skip.c - a populate (MADV_POPULATE_WRITE) is skipped
 * while another thread changes the address space (src/core/os.c): the
 * populate would sleep until the change is done, and with two threads to
 * a core the core idles (fragmentation at 4 threads slept ~30 times a
 * step in madvise). Checked:
 *   - with no change under way, a populate makes its pages resident;
 *   - while another thread is inside a change (held open with the same
 *     bracket every mmap, munmap and mremap of os.c takes), a populate
 *     leaves its pages alone and counts in populate_skips; once the change
 *     is over, populating works again;
 *   - a fork's child, made while another thread was inside a change,
 *     populates: the change did not come along.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hakmem_internal.h"
#include "hak_test.h"

#define PAGES 4
#define RANGE (PAGES * HAK_PAGE)

static _Atomic int held;    /* the other thread is inside its change */
static _Atomic int release; /* main tells it to end the change */

static void *changer(void *arg)
{
	(void)arg;
	hak_os_change_begin();
	atomic_store(&held, 1);
	while (!atomic_load(&release))
		sched_yield();
	hak_os_change_end();
	return NULL;
}

static void hold_change(pthread_t *t)
{
	atomic_store(&held, 0);
	atomic_store(&release, 0);
	CHECK(pthread_create(t, NULL, changer, NULL) == 0);
	while (!atomic_load(&held))
		sched_yield();
}

static void end_change(pthread_t t)
{
	atomic_store(&release, 1);
	CHECK(pthread_join(t, NULL) == 0);
}

static uint64_t skips(void)
{
	return atomic_load(&hak_stats.populate_skips);
}

int main(void)
{
	uint8_t *m = hak_os_map_aligned(HAK_SEG_SIZE, HAK_SEG_SIZE, 0);
	CHECK(m);
	CHECK(hak_os_resident(m, 3 * RANGE) == 0);

	hak_os_populate(m, RANGE);
	if (hak_os_resident(m, RANGE) != RANGE) {
		printf("ok # skip: this kernel does not populate (MADV_POPULATE_WRITE)\n");
		return 0;
	}
	printf("ok populate with no change under way\n");

	pthread_t t;
	hold_change(&t);
	uint64_t before = skips();
	hak_os_populate(m + RANGE, RANGE);
	CHECK(hak_os_resident(m + RANGE, RANGE) == 0);
	CHECK(skips() == before + 1);
	end_change(t);
	hak_os_populate(m + RANGE, RANGE);
	CHECK(hak_os_resident(m + RANGE, RANGE) == RANGE);
	printf("ok populate skipped while another thread changes the address space\n");

	hold_change(&t);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		hak_os_populate(m + 2 * RANGE, RANGE);
		_exit(hak_os_resident(m + 2 * RANGE, RANGE) == RANGE ? 0 : 1);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid);
	end_change(t);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("ok a fork's child populates though its parent was inside a change\n");

	hak_os_unmap(m, HAK_SEG_SIZE);
	return 0;
}
