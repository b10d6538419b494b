#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "outrules.h"

bool gcs_parse_fd(const char *s, int *out)
{
    if (s == NULL || *s == '\0')
        return false;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > 1048576)            /* beyond any RLIMIT_NOFILE Linux allows */
            return false;
    }
    *out = (int)v;
    return true;
}

/* Seconds, either whole or with up to three decimals ("0.5", "10", "2.25"). */
bool gcs_parse_interval_ms(const char *s, uint32_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t whole = 0, frac = 0;
    int frac_digits = 0;
    const char *p = s;
    if (*p == '.')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
        if (whole > GCS_MAX_INTERVAL_MS / 1000)
            return false;
    }
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++frac_digits > 3)
                return false;
            frac = frac * 10 + (uint64_t)(*p - '0');
        }
    }
    if (*p != '\0')
        return false;
    for (int i = frac_digits; i < 3; i++)
        frac *= 10;
    uint64_t ms = whole * 1000 + frac;
    if (ms > GCS_MAX_INTERVAL_MS)
        return false;
    *out = (uint32_t)ms;
    return true;
}

bool gcs_parse_bytes(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t digit = (uint64_t)(*p - '0');
        if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && digit > UINT64_MAX % 10))
            return false;
        v = v * 10 + digit;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: return false;
    }
    if (*p != '\0' || v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

bool gcs_expand_path(const char *template_path, long pid, char *out, size_t cap)
{
    char pidbuf[24];
    int pidlen = snprintf(pidbuf, sizeof pidbuf, "%ld", pid);
    size_t n = 0;
    if (template_path == NULL || *template_path == '\0' || cap == 0)
        return false;
    for (const char *p = template_path; *p; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            if (n + (size_t)pidlen >= cap)
                return false;
            memcpy(out + n, pidbuf, (size_t)pidlen);
            n += (size_t)pidlen;
            p++;
        } else {
            if (n + 1 >= cap)
                return false;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return true;
}

/* Values come from the user's environment: callers show them through
 * gcs_clip, so that a long one cannot push the end of the message past the
 * 255 bytes of an error line's reason. */
__attribute__((format(printf, 2, 3)))
static void add_problem(struct gcs_config *c, const char *fmt, ...)
{
    if (c->problems >= GCS_MAX_PROBLEMS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problem[c->problems++], GCS_MESSAGE_MAX, fmt, ap);
    va_end(ap);
}

/* A detector period: 1 to 86400 seconds; anything else keeps the default
 * already in *ms and is named. */
static void parse_leak_seconds(struct gcs_config *c, const char *name, const char *value, uint32_t *ms)
{
    uint32_t parsed;
    char shown[GCS_CLIP_SIZE];
    if (value == NULL)
        return;
    if (gcs_parse_interval_ms(value, &parsed) && parsed >= GCS_MIN_LEAK_PERIOD_MS)
        *ms = parsed;
    else
        add_problem(c, "%s=%s is not a number of seconds from %u to %u; using %u", name, gcs_clip(shown, GCS_CLIP_KEEP, value),
                    GCS_MIN_LEAK_PERIOD_MS / 1000u, GCS_MAX_INTERVAL_MS / 1000u, *ms / 1000u);
}

/* Bytes as a setting would say them: with the largest suffix that divides
 * them exactly (1048576 is "1M"). */
static void bytes_text(uint64_t bytes, char *out, size_t cap)
{
    static const char suffix[] = { 'G', 'M', 'k' };
    for (unsigned i = 0; i < sizeof suffix; i++) {
        unsigned shift = 30u - 10u * i;
        if (bytes != 0 && bytes % (1ull << shift) == 0) {
            snprintf(out, cap, "%llu%c", (unsigned long long)(bytes >> shift), suffix[i]);
            return;
        }
    }
    snprintf(out, cap, "%llu", (unsigned long long)bytes);
}

const char *gcs_culprits_mode_name(enum gcs_culprits_mode m)
{
    switch (m) {
    case GCS_CULPRITS_AUTO: return "auto";
    case GCS_CULPRITS_ALWAYS: return "always";
    case GCS_CULPRITS_OFF: return "off";
    }
    return "auto";
}

void gcs_config_parse(const struct gcs_env *env, long pid, struct gcs_config *out)
{
    char shown[GCS_CLIP_SIZE];   /* the value the next problem names */
    memset(out, 0, sizeof *out);
    out->dest = GCS_DEST_STDERR;
    out->fd = 2;
    out->dest_ok = true;
    out->interval_ms = GCS_DEFAULT_INTERVAL_MS;
    out->leak_min_span_ms = GCS_DEFAULT_LEAK_MIN_SPAN_MS;
    out->leak_min_growth_bytes = GCS_DEFAULT_LEAK_MIN_GROWTH;
    out->leak_report_ms = GCS_DEFAULT_LEAK_REPORT_MS;
    out->maps = true;
    out->probe_ms = GCS_DEFAULT_PROBE_MS;
    out->probe_budget_mpct = GCS_DEFAULT_PROBE_BUDGET_MPCT;
    out->culprits = GCS_CULPRITS_AUTO;
    out->culprits_interval_bytes = GCS_DEFAULT_CULPRITS_INTERVAL;

    if (env->fd != NULL) {
        int fd;
        if (gcs_parse_fd(env->fd, &fd)) {
            out->dest = GCS_DEST_FD;
            out->fd = fd;
        } else {
            out->dest_ok = false;
            add_problem(out, "GCSTATS_FD=%s is not a file descriptor number; gcstats writes nothing",
                        gcs_clip(shown, GCS_CLIP_KEEP, env->fd));
        }
        if (env->file != NULL)
            add_problem(out, "GCSTATS_FD and GCSTATS_FILE=%s are both set; GCSTATS_FD wins",
                        gcs_clip(shown, GCS_CLIP_KEEP, env->file));
    } else if (env->file != NULL) {
        if (gcs_expand_path(env->file, pid, out->path, sizeof out->path)) {
            out->dest = GCS_DEST_FILE;
        } else {
            out->dest_ok = false;
            add_problem(out, "GCSTATS_FILE=%s is empty or too long a path; gcstats writes nothing",
                        gcs_clip(shown, GCS_CLIP_KEEP, env->file));
        }
    }

    if (env->interval != NULL && !gcs_parse_interval_ms(env->interval, &out->interval_ms)) {
        out->interval_ms = GCS_DEFAULT_INTERVAL_MS;
        add_problem(out, "GCSTATS_INTERVAL=%s is not a number of seconds from 0 to %u; using %u",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->interval), GCS_MAX_INTERVAL_MS / 1000u, GCS_DEFAULT_INTERVAL_MS / 1000u);
    }
    parse_leak_seconds(out, "GCSTATS_LEAK_MIN_SPAN", env->leak_min_span, &out->leak_min_span_ms);
    parse_leak_seconds(out, "GCSTATS_LEAK_REPORT", env->leak_report, &out->leak_report_ms);
    if (env->leak_min_growth != NULL && !gcs_parse_bytes(env->leak_min_growth, &out->leak_min_growth_bytes)) {
        char growth[24];
        out->leak_min_growth_bytes = GCS_DEFAULT_LEAK_MIN_GROWTH;
        bytes_text(GCS_DEFAULT_LEAK_MIN_GROWTH, growth, sizeof growth);
        add_problem(out, "GCSTATS_LEAK_MIN_GROWTH=%s is not a number of bytes (like 1048576 or 1M); using %s",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->leak_min_growth), growth);
    }
    if (env->maps != NULL) {
        if (strcmp(env->maps, "0") == 0)
            out->maps = false;
        else if (strcmp(env->maps, "1") != 0)
            add_problem(out, "GCSTATS_MAPS=%s is not 0 or 1; using 1", gcs_clip(shown, GCS_CLIP_KEEP, env->maps));
    }
    if (env->sites != NULL && !gcs_parse_interval_ms(env->sites, &out->sites_interval_ms)) {
        out->sites_interval_ms = 0;
        add_problem(out, "GCSTATS_SITES=%s is not a number of seconds from 0 to %u; using 0 (no sites lines)",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->sites), GCS_MAX_INTERVAL_MS / 1000u);
    }
    /* Asking for a full GC more than once a second would cost the host
     * more than the samples are worth. */
    if (env->probe != NULL &&
        (!gcs_parse_interval_ms(env->probe, &out->probe_ms) ||
         (out->probe_ms != 0 && out->probe_ms < GCS_MIN_PROBE_MS))) {
        out->probe_ms = GCS_DEFAULT_PROBE_MS;
        add_problem(out, "GCSTATS_PROBE=%s is not 0 or a number of seconds from %u to %u; using %u",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->probe), GCS_MIN_PROBE_MS / 1000u, GCS_MAX_INTERVAL_MS / 1000u,
                    GCS_DEFAULT_PROBE_MS / 1000u);
    }
    /* A percentage with up to three decimals: the seconds parser reads
     * it in thousandths. */
    if (env->probe_budget != NULL &&
        (!gcs_parse_interval_ms(env->probe_budget, &out->probe_budget_mpct) ||
         out->probe_budget_mpct < GCS_MIN_PROBE_BUDGET_MPCT || out->probe_budget_mpct > GCS_MAX_PROBE_BUDGET_MPCT)) {
        out->probe_budget_mpct = GCS_DEFAULT_PROBE_BUDGET_MPCT;
        add_problem(out, "GCSTATS_PROBE_BUDGET=%s is not a percentage from 0.01 to %u; using %u",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->probe_budget), GCS_MAX_PROBE_BUDGET_MPCT / 1000u,
                    GCS_DEFAULT_PROBE_BUDGET_MPCT / 1000u);
    }
    if (env->culprits != NULL) {
        if (strcmp(env->culprits, "auto") == 0)
            out->culprits = GCS_CULPRITS_AUTO;
        else if (strcmp(env->culprits, "always") == 0)
            out->culprits = GCS_CULPRITS_ALWAYS;
        else if (strcmp(env->culprits, "off") == 0)
            out->culprits = GCS_CULPRITS_OFF;
        else
            add_problem(out, "GCSTATS_CULPRITS=%s is not auto, always or off; using auto",
                        gcs_clip(shown, GCS_CLIP_KEEP, env->culprits));
    }
    if (env->culprits_interval != NULL &&
        (!gcs_parse_bytes(env->culprits_interval, &out->culprits_interval_bytes) ||
         out->culprits_interval_bytes < GCS_MIN_CULPRITS_INTERVAL ||
         out->culprits_interval_bytes > GCS_MAX_CULPRITS_INTERVAL)) {
        out->culprits_interval_bytes = GCS_DEFAULT_CULPRITS_INTERVAL;
        add_problem(out, "GCSTATS_CULPRITS_INTERVAL=%s is not a number of bytes from 1k to 1G; using 512k",
                    gcs_clip(shown, GCS_CLIP_KEEP, env->culprits_interval));
    }
    if (!out->maps && out->sites_interval_ms > 0) {
        out->sites_interval_ms = 0;
        add_problem(out, "GCSTATS_SITES is ignored with GCSTATS_MAPS=0: nothing is counted");
    }
}
