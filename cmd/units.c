/* Bytes and durations for people, the same in every subcommand. Pure. */
#include "units.h"

#include <math.h>
#include <stdio.h>

/* three significant digits of v (>= 0) */
static int decimals_for(double v)
{
    return v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
}

void gcs_format_bytes(char *buf, size_t size, double bytes)
{
    static const char *const units[] = { "kB", "MB", "GB", "TB", "PB" };
    const char *sign = bytes < 0 ? "-" : "";
    double v = fabs(bytes);
    if (!isfinite(v)) {
        snprintf(buf, size, "?");
        return;
    }
    if (v < 999.5) {
        snprintf(buf, size, "%s%.0f B", sign, v);
        return;
    }
    int u = -1;
    /* the unit in which v rounds to less than 1000 */
    while (u < 4 && v >= 999.5) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, size, "%s%.*f %s", sign, decimals_for(v), v, units[u]);
}

void gcs_format_duration(char *buf, size_t size, double seconds)
{
    double s = fabs(seconds);
    const char *sign = seconds < 0 ? "-" : "";
    if (!isfinite(s))
        snprintf(buf, size, "?");
    else if (s < 59.95)
        snprintf(buf, size, "%s%.*f s", sign, s < 9.995 ? 2 : 1, s);
    else if (s < 3600 - 3)
        snprintf(buf, size, "%s%.*f min", sign, decimals_for(s / 60), s / 60);
    else if (s < 48 * 3600)
        snprintf(buf, size, "%s%.*f h", sign, decimals_for(s / 3600), s / 3600);
    else
        snprintf(buf, size, "%s%.*f d", sign, decimals_for(s / 86400), s / 86400);
}
