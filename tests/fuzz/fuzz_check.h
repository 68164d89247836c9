/* What every fuzz target asserts with: a broken property prints what broke and aborts, so
 * libFuzzer records the input as a crash (crash-<sha1>) like any sanitizer report. */
#ifndef CP_FUZZ_CHECK_H
#define CP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property broken: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
