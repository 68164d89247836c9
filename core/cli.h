/* Shared plumbing for subcommands: loading settings and logging the same way everywhere,
 * the one-line failure convention, and progress lines on a terminal. */
#ifndef CP_CLI_H
#define CP_CLI_H

#include <stdbool.h>

#include "core/config.h"

/* Loads the settings and sets up logging. On a bad setting prints
 * "chartpulse <command>: NAME: why" to stderr and returns false. */
bool cp_cli_setup(const char *command, struct cp_config *cfg);

/* Prints "chartpulse <command>: <message>" on stderr; returns 1 (the failure exit status). */
int cp_cli_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A progress line that rewrites itself on a terminal and prints nothing otherwise. */
struct cp_progress {
    bool enabled;
    double started;      /* monotonic seconds */
    double last_printed; /* monotonic seconds */
};

void cp_progress_init(struct cp_progress *p);
/* done/total in any unit (bytes, files); rows is what the rate is reported in. */
void cp_progress_update(struct cp_progress *p, const char *what, double done, double total,
                        long long rows);
/* Clears the progress line so a summary can follow. */
void cp_progress_finish(struct cp_progress *p);

/* Monotonic clock in seconds. */
double cp_now(void);

#endif
