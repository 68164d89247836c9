/* Subcommand plumbing: settings, logging, one-line failures, terminal progress. */
#include "core/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

bool cp_cli_setup(const char *command, struct cp_config *cfg)
{
    char err[512];
    if (cp_config_load(cfg, err, sizeof err) != CP_OK) {
        fprintf(stderr, "chartpulse %s: %s\n", command, err);
        return false;
    }
    cp_log_init(cfg->log_format, CP_LOG_INFO);
    return true;
}

int cp_cli_fail(const char *command, const char *fmt, ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    fprintf(stderr, "chartpulse %s: %s\n", command, message);
    return 1;
}

double cp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cp_progress_init(struct cp_progress *p)
{
    p->enabled = isatty(STDERR_FILENO);
    p->started = cp_now();
    p->last_printed = 0;
}

void cp_progress_update(struct cp_progress *p, const char *what, double done, double total,
                        long long rows)
{
    if (!p->enabled)
        return;
    double now = cp_now();
    if (now - p->last_printed < 0.25 && done < total)
        return;
    p->last_printed = now;
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)rows / elapsed : 0;
    double pct = total > 0 ? 100.0 * done / total : 0;
    double eta = done > 0 && total > done ? elapsed * (total - done) / done : 0;
    fprintf(stderr, "\r%s %5.1f%%  %lld rows  %.0f rows/s  ETA %.0fs   ", what, pct, rows, rate,
            eta);
    fflush(stderr);
}

void cp_progress_finish(struct cp_progress *p)
{
    if (p->enabled && p->last_printed > 0)
        fprintf(stderr, "\r\033[K");
}
