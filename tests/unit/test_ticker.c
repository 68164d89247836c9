/* The periodic thread behind the server's sweeps (core/ticker.h). */
#include <stdatomic.h>
#include <time.h>

#include "core/ticker.h"
#include "tests/testutil.h"

static void count(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(ticks_until_stopped)
{
    atomic_int ticks = 0;
    char err[128];
    struct cp_ticker *t = cp_ticker_start(10, count, &ticks, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    double until = now_s() + 10;
    while (atomic_load(&ticks) < 3 && now_s() < until) {
        struct timespec pause = {.tv_nsec = 5 * 1000000L};
        nanosleep(&pause, NULL);
    }
    cp_ticker_stop(t);
    int at_stop = atomic_load(&ticks);
    ck_assert_int_ge(at_stop, 3);
    struct timespec pause = {.tv_nsec = 50 * 1000000L};
    nanosleep(&pause, NULL);
    ck_assert_int_eq(atomic_load(&ticks), at_stop); /* none after stop returned */
}
END_TEST

/* Stopping does not wait out the interval: a server with a one-minute ticker stops at once. */
START_TEST(stop_wakes_a_waiting_ticker)
{
    atomic_int ticks = 0;
    char err[128];
    struct cp_ticker *t = cp_ticker_start(60000, count, &ticks, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    double started = now_s();
    cp_ticker_stop(t);
    ck_assert_msg(now_s() - started < 5, "stop took %.1f s", now_s() - started);
    ck_assert_int_eq(atomic_load(&ticks), 0);
    cp_ticker_stop(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ticker");
    TCase *tc = tcase_create("ticker");
    tcase_add_test(tc, ticks_until_stopped);
    tcase_add_test(tc, stop_wakes_a_waiting_ticker);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
