/*
 * stats.c - hakmem's counters and the statistics file (HAKMEM_STATS_FILE).
 *
 * Owns: the global counters of stats.def, the JSON writer, the exit hook
 * that writes the file and (timing build) the profile's report. Does not
 * own: per-thread class counters (tcache.c publishes them here).
 *
 * File layout (one JSON object):
 *   "hakmem": version, "build": release|debug|timing,
 *   "foreign_requests": 0, "allocations", "frees" (all tiers),
 *   "tiers": {"tiny"|"mid"|"l25"|"large": {"allocations", "frees",
 *             "refills", "remote_frees"}},
 *   "memory": {"bytes_mapped", "bytes_unmapped", "bytes_purged",
 *              "peak_mapped", "mapped_now"},
 *   "counters": every row of stats.def, "classes": per small class,
 *   "config": every option's effective value, "learn": the learner's part,
 *   "debug": stats.def's debug counters (debug and timing builds only),
 *   "timing": the profile (timing build only).
 * Counts of threads still running at exit are complete up to their last
 * slow path; the calling thread's are exact.
 */
#include "../hakmem_internal.h"

#include <stdlib.h>
#include <unistd.h>

hak_stats_t hak_stats;

#if defined(HAKMEM_DEBUG_TIMING)
#define STATS_BUILD "timing"
#elif defined(HAKMEM_DEBUG)
#define STATS_BUILD "debug"
#else
#define STATS_BUILD "release"
#endif

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void stats_tier(FILE *f, const char *name, uint64_t a, uint64_t fr, uint64_t refills,
		       uint64_t remote, const char *sep)
{
	fprintf(f,
		"\"%s\": {\"allocations\": %llu, \"frees\": %llu, \"refills\": %llu, "
		"\"remote_frees\": %llu}%s",
		name, (unsigned long long)a, (unsigned long long)fr, (unsigned long long)refills,
		(unsigned long long)remote, sep);
}

static void stats_write(FILE *f)
{
	hak_counters_publish();
	uint64_t ta = 0, tf = 0, ma = 0, mf = 0;
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++) {
		uint64_t a = LD(hak_stats.class_allocs[c]), fr = LD(hak_stats.class_frees[c]);
		if (c < HAK_TINY_NCLS) {
			ta += a;
			tf += fr;
		} else {
			ma += a;
			mf += fr;
		}
	}
	tf += LD(hak_stats.tiny_remote_frees);
	mf += LD(hak_stats.mid_remote_frees);
	uint64_t la = LD(hak_stats.l25_allocs), lf = LD(hak_stats.l25_frees);
	uint64_t ga = LD(hak_stats.large_allocs), gf = LD(hak_stats.large_frees);

	fprintf(f, "{\"hakmem\": \"%s\", \"build\": \"%s\", \"pid\": %ld, ", hak_version(),
		STATS_BUILD, (long)getpid());
	fprintf(f, "\"foreign_requests\": %llu, \"allocations\": %llu, \"frees\": %llu, ",
		(unsigned long long)LD(hak_stats.foreign_requests),
		(unsigned long long)(ta + ma + la + ga), (unsigned long long)(tf + mf + lf + gf));
	fputs("\"tiers\": {", f);
	stats_tier(f, "tiny", ta, tf, LD(hak_stats.tiny_refills), LD(hak_stats.tiny_remote_frees),
		   ", ");
	stats_tier(f, "mid", ma, mf, LD(hak_stats.mid_refills), LD(hak_stats.mid_remote_frees),
		   ", ");
	/* spans have no owning thread: any thread frees them directly */
	stats_tier(f, "l25", la, lf, LD(hak_stats.l25_refills), 0, ", ");
	stats_tier(f, "large", ga, gf, LD(hak_stats.large_refills), 0, "");
	fprintf(f,
		"}, \"memory\": {\"bytes_mapped\": %llu, \"bytes_unmapped\": %llu, "
		"\"bytes_purged\": %llu, \"peak_mapped\": %llu, \"mapped_now\": %lld}, ",
		(unsigned long long)LD(hak_stats.bytes_mapped),
		(unsigned long long)LD(hak_stats.bytes_unmapped),
		(unsigned long long)LD(hak_stats.bytes_purged),
		(unsigned long long)LD(hak_stats.peak_mapped),
		(long long)LD(hak_stats.cur_mapped));
	fputs("\"counters\": {", f);
	const char *sep = "";
#define HAK_STAT(name, meaning)                                                                    \
	fprintf(f, "%s\"%s\": %llu", sep, #name, (unsigned long long)LD(hak_stats.name));          \
	sep = ", ";
#include "stats.def"
#undef HAK_STAT
	fputs("}, \"classes\": [", f);
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		fprintf(f, "%s{\"size\": %u, \"allocations\": %llu, \"local_frees\": %llu}",
			c ? ", " : "", hak_class_size[c],
			(unsigned long long)LD(hak_stats.class_allocs[c]),
			(unsigned long long)LD(hak_stats.class_frees[c]));
	fputs("], ", f);
	hak_options_write_json(f);
	fputs(", ", f);
	hak_learn_write_json(f);
#ifdef HAK_DEBUG_STATS
	fputs(", \"debug\": {", f);
	sep = "";
#define HAK_STAT(name, meaning)
#define HAK_DEBUG_STAT(name, meaning)                                                              \
	fprintf(f, "%s\"%s\": %llu", sep, #name,                                                    \
		(unsigned long long)LD(hak_stats.dbg[HAK_DBG_##name]));                            \
	sep = ", ";
#include "stats.def"
#undef HAK_DEBUG_STAT
#undef HAK_STAT
	fputs("}", f);
#endif
#ifdef HAKMEM_DEBUG_TIMING
	fputs(", ", f);
	hak_timing_write_json(f);
#endif
	fputs("}\n", f);
}

/* Expand "%p" in `path` to the process id. */
static void stats_path(char *out, size_t n, const char *path)
{
	size_t o = 0;
	for (const char *s = path; *s && o + 24 < n; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			o += (size_t)snprintf(out + o, n - o, "%ld", (long)getpid());
			s++;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

int hak_stats_write_file(const char *path)
{
	char full[1024];
	stats_path(full, sizeof full, path);
	FILE *f = fopen(full, "w");
	if (!f)
		return -1;
	stats_write(f);
	return fclose(f) == 0 ? 0 : -1;
}

void hak_stats_at_exit(void)
{
	if (atomic_load(&hak_init_state) != 2)
		return;
	if (*hak_config.stats_file && hak_stats_write_file(hak_config.stats_file) != 0) {
		char line[1200];
		snprintf(line, sizeof line,
			 "hakmem: cannot write HAKMEM_STATS_FILE=%s: %s; check the directory "
			 "exists and is writable\n",
			 hak_config.stats_file, strerror(errno));
		ssize_t w = write(2, line, strlen(line));
		(void)w;
	}
#ifdef HAKMEM_DEBUG_TIMING
	if (hak_config.timing)
		hak_timing_report();
#endif
}
