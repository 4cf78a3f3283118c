/* A stand-in workload for the runner's tests: behaves as told by --mode.
 *
 *   --mode ok       print a valid result line (the default)
 *   --mode crash    die of SIGSEGV
 *   --mode hang     sleep until killed
 *   --mode silent   exit 0 without a result line
 *   --mode fail     print a result line with status "failed", exit 3
 *   --sleep-ms N    sleep N ms first
 * The allocator it reports is the name of the directory it lives in, so a
 * test's bench.toml chooses identities by choosing bindirs. When
 * HAKMEM_STATS_FILE is set it writes a small statistics object there.
 * Other options (--threads, --seconds, ...) are accepted and echoed.
 */
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *mode = "ok";
    int threads = 1;
    long sleep_ms = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--mode")) mode = argv[++i];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sleep-ms")) sleep_ms = atol(argv[++i]);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", argv[0]);
    const char *identity = basename(dirname(path));
    if (sleep_ms) {
        struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "fake workload: mode %s\n", mode);
    if (!strcmp(mode, "crash")) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    if (!strcmp(mode, "hang"))
        for (;;) pause();
    if (!strcmp(mode, "silent")) return 0;
    const char *stats = getenv("HAKMEM_STATS_FILE");
    if (stats) {
        FILE *f = fopen(stats, "w");
        if (f) {
            fprintf(f, "{\"tiers\": {\"tiny\": {\"allocs\": 10, \"frees\": 9}}, \"foreign_requests\": 0}\n");
            fclose(f);
        }
    }
    int failed = !strcmp(mode, "fail");
    printf("some free text first\n");
    printf("{\"workload\": \"fake\", \"allocator\": \"%s\", \"threads\": %d, \"params\": {\"mode\": \"%s\"}, "
           "\"seed\": 42, \"ops\": 1000, \"seconds\": 0.001, \"ops_per_sec\": 1000000.0, \"ns_per_op\": 1.0, "
           "\"phases\": {\"alloc\": 0.0004, \"free\": 0.0006}, "
           "\"latency_ns\": {\"p50\": 10, \"p90\": 20, \"p99\": 30, \"p99.9\": 40, \"max\": 50}, "
           "\"metrics\": {\"rss_peak_kb\": 1234}, \"checksum\": \"abcd\", \"status\": \"%s\"%s}\n",
           identity, threads, mode, failed ? "failed" : "ok", failed ? ", \"error\": \"out of memory\"" : "");
    return failed ? 3 : 0;
}
