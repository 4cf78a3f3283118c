/*
 * init.c - start-up, thread exit, fork and crash messages.
 *
 * Owns: hak_init (lazy, from the first allocation: usable before main, from
 * the dynamic loader's and pthreads' own start-up; never allocates before the
 * tiers can serve), the thread-exit destructor that orphans a heap, the
 * fork handlers (every lock held across fork, reset in the child), the
 * SIGSEGV/SIGBUS/SIGABRT one-line messages, the exit hook. Does not own:
 * what each tier does at those moments.
 */
#include "../hakmem_internal.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

_Atomic int hak_init_state;
static HAK_TLS int init_running_here; /* 1 on the thread running hak_init */
static pthread_key_t thread_key;
static bool thread_key_ok;

void hak_lock_slow(hak_lock_t *l)
{
	for (;;) {
		int z = 0;
		if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(&l->v, &z, 1, memory_order_acquire,
							  memory_order_relaxed))
			return;
		sched_yield();
	}
}

#ifdef HAKMEM_DEBUG
void hak_assert_fail(const char *expr, const char *file, int line)
{
	char buf[512];
	snprintf(buf, sizeof buf, "hakmem: assertion failed: %s (%s:%d)\n", expr, file, line);
	ssize_t w = write(2, buf, strlen(buf));
	(void)w;
	abort();
}
#endif

/* --- thread exit ----------------------------------------------------------- */
static void thread_destructor(void *v)
{
	(void)v;
	hak_thread_exit();
}

void hak_thread_register(hak_heap_t *h)
{
	if (thread_key_ok)
		pthread_setspecific(thread_key, h);
}

/* --- fork ------------------------------------------------------------------- */
static void fork_prepare(void)
{
	hak_heaps_lock();
	hak_seg_cache_lock();
	hak_l25_lock();
	hak_large_lock();
}

static void fork_parent(void)
{
	hak_large_unlock();
	hak_l25_unlock();
	hak_seg_cache_unlock();
	hak_heaps_unlock();
}

static void fork_child(void)
{
	hak_os_fork_child();
	hak_large_fork_child();
	hak_l25_fork_child();
	hak_seg_cache_fork_child();
	hak_heaps_fork_child();
}

/* --- crash messages ------------------------------------------------------ */
static char *fmt_ulong(char *p, unsigned long v, unsigned base)
{
	char tmp[32];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void crash_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char buf[128], *p = buf;
	static const char a[] = "hakmem: fatal signal ", b[] = " at addr 0x";
	memcpy(p, a, sizeof a - 1);
	p += sizeof a - 1;
	p = fmt_ulong(p, (unsigned long)sig, 10);
	memcpy(p, b, sizeof b - 1);
	p += sizeof b - 1;
	p = fmt_ulong(p, (unsigned long)(uintptr_t)(si ? si->si_addr : 0), 16);
	*p++ = '\n';
	ssize_t w = write(2, buf, (size_t)(p - buf));
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_handlers_install(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = crash_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

/* --- init ------------------------------------------------------------------ */
void hak_init_slow(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&hak_init_state, &expected, 1)) {
		init_running_here = 1;
		hak_options_init();
		hak_mid_init();
		if (pthread_key_create(&thread_key, thread_destructor) == 0)
			thread_key_ok = true;
		/* From here allocations on this thread are served (recursion below
		 * sees init_running_here). */
		hak_learn_init();
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		if (hak_config.crash_handler)
			crash_handlers_install();
		if (!hak_config.tiny_use_superslab) {
			static const char w[] =
				"hakmem: HAKMEM_TINY_USE_SUPERSLAB=0 ignored: hakmem has no other "
				"Tiny backend; using SuperSlabs\n";
			ssize_t n = write(2, w, sizeof w - 1);
			(void)n;
		}
		atomic_store_explicit(&hak_init_state, 2, memory_order_release);
		init_running_here = 0;
		return;
	}
	if (init_running_here)
		return;
	while (atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2)
		sched_yield();
}

__attribute__((constructor)) static void hak_constructor(void)
{
	hak_init();
}

__attribute__((destructor)) static void hak_destructor(void)
{
	hak_stats_at_exit();
}
