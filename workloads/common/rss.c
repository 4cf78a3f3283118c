/*
 * rss.c - peak and current resident set size. Reads /proc with plain
 * read(2), not stdio, so that measuring memory does not allocate any.
 */
#include "rss.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int64_t wl_rss_peak_kb(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return (int64_t)ru.ru_maxrss;
}

int64_t wl_rss_current_kb(void)
{
	char buf[128];
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Fields: size resident shared ...; resident is the second, in pages. */
	char *end;
	strtoll(buf, &end, 10);
	long long resident = strtoll(end, NULL, 10);
	return (int64_t)resident * (sysconf(_SC_PAGESIZE) / 1024);
}
