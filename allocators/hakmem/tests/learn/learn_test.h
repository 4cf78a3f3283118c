/*
 * learn_test.h - what the learning layer's C tests share: CHECK(cond, fmt,
 * ...) prints the failure with its measurements and carries on (a
 * simulation's later checks still say something), and test_finish() turns
 * the failure count into the exit status.
 */
#ifndef HAK_LEARN_TEST_H
#define HAK_LEARN_TEST_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
		}                                                                                  \
	} while (0)

/* Exit status of a test program named `name`: 0 and "<name>: ok" when every
 * CHECK held, else 1 with the count. */
static inline int test_finish(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d failure(s)\n", name, failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif /* HAK_LEARN_TEST_H */
