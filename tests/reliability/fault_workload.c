/*
 * fault_workload.c - a stand-in workload that fails on purpose, for the
 * harness-fault tests (test_harness_faults.py) run through the suite runner.
 *
 *   --mode ok       print a valid result line, exit 0 (the default)
 *   --mode segv     print a line of text, then die of SIGSEGV (a real bad write)
 *   --mode hang     never finish (the runner's timeout must end it)
 *   --mode silent   exit 0 without a result line
 *   --mode oom      cap the address space (setrlimit) and allocate until malloc
 *                   returns NULL: a result line with status "failed", exit 3
 *   --identity NAME the allocator it reports (bench.toml's `identity`)
 *   --sleep-ms N    sleep N ms first
 * Other options (--threads, --seconds, --ops, ...) are accepted and ignored.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void result_line(const char *identity, int threads, const char *status, const char *error,
			unsigned long long ops)
{
	printf("{\"workload\":\"fault\",\"allocator\":\"%s\",\"threads\":%d,\"params\":{},"
	       "\"seed\":1,\"ops\":%llu,\"seconds\":0.01,\"ops_per_sec\":%llu,\"ns_per_op\":10.0,"
	       "\"phases\":{\"run\":0.01},\"latency_ns\":{\"p50\":1,\"p90\":2,\"p99\":3,"
	       "\"p99.9\":4,\"max\":5},\"metrics\":{\"rss_peak_kb\":100},\"checksum\":\"0f\","
	       "\"status\":\"%s\"%s%s%s}\n",
	       identity, threads, ops, ops * 100, status, error ? ",\"error\":\"" : "",
	       error ? error : "", error ? "\"" : "");
}

/* Allocate and touch 1 MiB blocks under a 256 MiB address-space cap until
 * malloc fails, as a workload that runs out of memory does. */
static int exhaust_memory(const char *identity, int threads)
{
	struct rlimit lim = {.rlim_cur = (rlim_t)256 << 20, .rlim_max = (rlim_t)256 << 20};
	unsigned long long n = 0;
	char err[128];

	if (setrlimit(RLIMIT_AS, &lim)) {
		perror("setrlimit");
		return 1;
	}
	for (;;) {
		char *p = malloc(1 << 20);

		if (!p)
			break;
		memset(p, 1, 1 << 20);
		n++;
	}
	snprintf(err, sizeof(err), "out of memory: malloc(1048576) returned NULL after %llu MiB", n);
	result_line(identity, threads, "failed", err, n);
	return 3;
}

int main(int argc, char **argv)
{
	const char *mode = "ok", *identity = "glibc";
	int threads = 1;
	long sleep_ms = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mode"))
			mode = argv[i + 1];
		else if (!strcmp(argv[i], "--identity"))
			identity = argv[i + 1];
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--sleep-ms"))
			sleep_ms = atol(argv[i + 1]);
	}
	if (sleep_ms) {
		struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	if (!strcmp(mode, "segv")) {
		volatile int *bad = (volatile int *)(uintptr_t)16;

		printf("about to crash\n");
		fflush(stdout);
		*bad = 1;
	}
	if (!strcmp(mode, "hang"))
		for (;;)
			pause();
	if (!strcmp(mode, "silent"))
		return 0;
	if (!strcmp(mode, "oom"))
		return exhaust_memory(identity, threads);
	result_line(identity, threads, "ok", NULL, 1000);
	return 0;
}
