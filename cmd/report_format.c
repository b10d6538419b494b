/* Numbers for people: axis ticks, times, a leak in words. Pure. */
#include "report.h"

#include <math.h>

#include "json.h"

size_t gcs_nice_ticks(double lo, double hi, int target, double *ticks, size_t max, double *step)
{
    if (!isfinite(lo) || !isfinite(hi))
        lo = 0, hi = 1;
    if (hi < lo) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo < fabs(hi) * 1e-9 || hi == lo) {
        /* one value: a range around it */
        double pad = hi != 0 ? fabs(hi) * 0.1 : 1;
        lo -= pad;
        hi += pad;
    }
    if (target < 2)
        target = 2;
    size_t n;
    double raw = (hi - lo) / target;
    if (!isfinite(raw) || raw <= 0) {
        /* beyond what a double spans: the two ends, as they are */
        n = 0;
        if (max > 0)
            ticks[n++] = lo;
        if (max > 1)
            ticks[n++] = hi;
        *step = hi - lo;
        return n;
    }
    double mag = pow(10, floor(log10(raw)));
    double norm = raw / mag;
    /* the nearest of 1, 2, 5, 10 (Heckbert's rounding), so that the count
     * stays near target */
    double s = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    double first = floor(lo / s + 1e-9) * s;
    double last = ceil(hi / s - 1e-9) * s;
    n = 0;
    for (double k = 0; n < max; k++) {
        double t = first + k * s;
        /* exact zeros and no 1e-17 noise in the labels */
        if (fabs(t) < s * 1e-9)
            t = 0;
        ticks[n++] = t;
        if (t >= last - s * 1e-9)
            break;
    }
    *step = s;
    return n;
}

void gcs_bytes_unit(double max_bytes, double *unit, const char **name)
{
    double m = fabs(max_bytes);
    if (m >= 1e12)
        *unit = 1e12, *name = "TB";
    else if (m >= 1e9)
        *unit = 1e9, *name = "GB";
    else if (m >= 1e6)
        *unit = 1e6, *name = "MB";
    else if (m >= 1e3)
        *unit = 1e3, *name = "kB";
    else
        *unit = 1, *name = "B";
}

void gcs_time_unit(double span_s, double *unit_s, const char **name)
{
    if (span_s <= 180)
        *unit_s = 1, *name = "s";
    else if (span_s <= 3 * 3600)
        *unit_s = 60, *name = "min";
    else if (span_s <= 72 * 3600)
        *unit_s = 3600, *name = "h";
    else
        *unit_s = 86400, *name = "d";
}

int gcs_step_decimals(double step)
{
    if (!(step > 0) || !isfinite(step))
        return 0;
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 9 ? 9 : d;
}

/* "2026-11-26 23:25:25.056" (UTC): the lines' own format, easier to read */
void gcs_format_time(char *buf, size_t size, int64_t ms)
{
    char iso[25];
    gcs_format_iso8601(ms, iso);
    iso[10] = ' ';
    iso[23] = '\0';
    snprintf(buf, size, "%s", iso);
}

void gcs_report_leak_text(char *buf, size_t size, const struct gcs_rpt_leak *k)
{
    char rate[32], low[32], window[32], limit[32], until[32], level[32];
    gcs_format_bytes(rate, sizeof rate, k->rate);
    gcs_format_bytes(low, sizeof low, k->rate_low);
    gcs_format_duration(window, sizeof window, k->window_s);
    gcs_format_bytes(level, sizeof level, k->level);
    int n = snprintf(buf, size, "%s%s%s grows by %s/s (at least %s/s at 95%%), over a window of %s "
                     "(%u samples), now at %s",
                     k->memory, k->owner[0] ? " by " : "", k->owner, rate, low, window, k->samples, level);
    if (n < 0 || (size_t)n >= size)
        return;
    if (k->seconds_to_limit >= 0) {
        gcs_format_bytes(limit, sizeof limit, k->limit);
        gcs_format_duration(until, sizeof until, k->seconds_to_limit);
        snprintf(buf + n, size - (size_t)n, "; reaches the heap limit of %s in %s at this rate", limit,
                 until);
    }
}

void gcs_report_culprit_text(char *buf, size_t size, const struct gcs_rpt_culprit *c)
{
    char bytes[32], growth[40] = "";
    gcs_format_bytes(bytes, sizeof bytes, c->bytes);
    if (c->have_growth) {
        char g[32];
        gcs_format_bytes(g, sizeof g, c->growth);
        snprintf(growth, sizeof growth, " (%s%s)", c->growth >= 0 ? "+" : "", g);
    }
    double share = isfinite(c->share) ? 100 * c->share : 0;
    snprintf(buf, size, "%.0f%% %s %s %s:%lld%s", share, bytes, c->function[0] ? c->function : "(anonymous)",
             c->url[0] ? c->url : "?", (long long)c->line, growth);
}
