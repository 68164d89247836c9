/* Chart survival: the Kaplan-Meier estimate of how many charts a run lasts, and the
 * expected remaining time on chart of a run still going. Pure computation on arrays (no
 * I/O, no globals), so `chartpulse refresh`, the API and the unit tests see the same numbers.
 *
 * Time is counted in charts of the series (days on daily charts, weeks on weekly ones). A
 * spell of duration d was on d consecutive loaded charts; it ended (an event at d) when the
 * track missed the next chart. A spell still on the series' latest chart is right-censored:
 * it is known to have lasted at least d charts, i.e. past d - 1, and whether it ends at d
 * is not yet known, so the caller passes it with duration d - 1 and ended = false.
 *
 * S(t) = P(T > t) = prod over event times u <= t of (1 - events(u) / at_risk(u)), where
 * at_risk(u) counts spells with duration >= u. At a time with both events and censorings the
 * censored spells count as at risk (they survived u), the usual convention. */
#ifndef CP_SURVIVAL_H
#define CP_SURVIVAL_H

#include <stdbool.h>
#include <stddef.h>

struct cp_spell {
    int duration; /* charts survived: >= 0 */
    bool ended;   /* true: the run ended at duration; false: censored there */
};

/* One step of the curve, at a time where something happened. */
struct cp_km_step {
    int time;
    int at_risk;
    int events;
    int censored;
    double survival; /* S(time), after this step's events */
};

/* Estimates the curve of spells[0..n) (in any order; the array is sorted in place) into
 * out, which needs room for n steps; *nsteps gets the count. Times with only censorings
 * are steps too (survival unchanged), so at_risk can be read off the curve. Returns false
 * (and nothing written) on a negative duration. Censorings at time 0 (a run on the latest
 * chart only) carry no information and leave no step. */
bool cp_km_estimate(struct cp_spell *spells, size_t n, struct cp_km_step *out, size_t *nsteps);

/* S(t) read off the curve: 1 before the first event. */
double cp_km_survival_at(const struct cp_km_step *steps, size_t nsteps, int t);

/* Expected number of further charts of a run already on `so_far` charts (>= 1) and still
 * on the latest one: E[T - so_far | T >= so_far] = sum_{k >= so_far} S(k) / S(so_far - 1).
 * When the curve does not reach 0 the sum stops at its last time tau (the restricted
 * mean E[min(T, tau) - so_far | ...]) and *restricted is set. Returns -1 when nothing is
 * known that far (so_far - 1 >= tau, or S(so_far - 1) = 0). */
double cp_km_remaining(const struct cp_km_step *steps, size_t nsteps, int so_far, bool *restricted);

/* Median duration: the smallest t with S(t) <= 0.5, or -1 when the curve stays above. */
int cp_km_median(const struct cp_km_step *steps, size_t nsteps);

#endif
