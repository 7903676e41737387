/*
 * check.h: CHECK for the C test programs.  CHECK(cond, fmt, ...) counts a
 * check in checks; when cond is false it counts a failure in failures and
 * prints "FAIL file:line: " and the message.  The including program reports
 * the counts and exits 1 when failures is not 0.
 */
#ifndef M40_TESTS_CHECK_H
#define M40_TESTS_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		checks++;                                                   \
		if (!(cond)) {                                              \
			failures++;                                         \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);         \
			printf(__VA_ARGS__);                                \
			putchar('\n');                                      \
		}                                                           \
	} while (0)

#endif
