/* Kaplan-Meier estimate of chart survival (analytics/survival.h). */
#include "analytics/survival.h"

#include <stdlib.h>

static int spell_cmp(const void *a, const void *b)
{
    const struct cp_spell *x = a, *y = b;
    return (x->duration > y->duration) - (x->duration < y->duration);
}

bool cp_km_estimate(struct cp_spell *spells, size_t n, struct cp_km_step *out, size_t *nsteps)
{
    *nsteps = 0;
    for (size_t i = 0; i < n; i++)
        if (spells[i].duration < 0)
            return false;
    if (n > 1)
        qsort(spells, n, sizeof *spells, spell_cmp);
    double s = 1.0;
    size_t at_risk = n, i = 0, k = 0;
    while (i < n) {
        int t = spells[i].duration;
        int events = 0, censored = 0;
        size_t j = i;
        for (; j < n && spells[j].duration == t; j++) {
            if (spells[j].ended)
                events++;
            else
                censored++;
        }
        /* a censoring at 0 says only "on the latest chart": no time survived yet */
        if (t > 0 || events > 0) {
            if (events > 0)
                s *= 1.0 - (double)events / (double)at_risk;
            out[k++] = (struct cp_km_step){.time = t,
                                           .at_risk = (int)at_risk,
                                           .events = events,
                                           .censored = censored,
                                           .survival = s};
        }
        at_risk -= j - i;
        i = j;
    }
    *nsteps = k;
    return true;
}

double cp_km_survival_at(const struct cp_km_step *steps, size_t nsteps, int t)
{
    double s = 1.0;
    for (size_t i = 0; i < nsteps && steps[i].time <= t; i++)
        s = steps[i].survival;
    return s;
}

double cp_km_remaining(const struct cp_km_step *steps, size_t nsteps, int so_far, bool *restricted)
{
    *restricted = false;
    if (nsteps == 0 || so_far < 1)
        return -1;
    int tau = steps[nsteps - 1].time;
    double base = cp_km_survival_at(steps, nsteps, so_far - 1);
    if (so_far - 1 >= tau || base <= 0)
        return -1;
    /* T - so_far = sum over k >= so_far of [T > k]; S is a step function, so the sum runs
     * over whole charts up to tau - 1 (S(k) = 0 from the last event on if the curve ends
     * at 0; else the mean is restricted to tau), one step at a time */
    double sum = 0, s = base;
    size_t i = 0;
    while (i < nsteps && steps[i].time <= so_far - 1)
        i++;
    for (int k = so_far; k < tau; k++) {
        while (i < nsteps && steps[i].time <= k)
            s = steps[i++].survival;
        sum += s;
    }
    if (steps[nsteps - 1].survival > 0)
        *restricted = true;
    return sum / base;
}

int cp_km_median(const struct cp_km_step *steps, size_t nsteps)
{
    for (size_t i = 0; i < nsteps; i++)
        if (steps[i].survival <= 0.5)
            return steps[i].time;
    return -1;
}
