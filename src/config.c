#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* Values come from the user's environment: callers cut them with %.200s. */
__attribute__((format(printf, 2, 3)))
static void add_problem(struct gcs_config *c, const char *fmt, ...)
{
    if (c->problems >= 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->problem[c->problems++], GCS_MESSAGE_MAX, fmt, ap);
    va_end(ap);
}

void gcs_config_parse(const struct gcs_env *env, long pid, struct gcs_config *out)
{
    memset(out, 0, sizeof *out);
    out->dest = GCS_DEST_STDERR;
    out->fd = 2;
    out->dest_ok = true;
    out->interval_ms = GCS_DEFAULT_INTERVAL_MS;

    if (env->fd != NULL) {
        int fd;
        if (gcs_parse_fd(env->fd, &fd)) {
            out->dest = GCS_DEST_FD;
            out->fd = fd;
        } else {
            out->dest_ok = false;
            add_problem(out, "GCSTATS_FD=%.200s is not a file descriptor number; gcstats writes nothing",
                        env->fd);
        }
        if (env->file != NULL)
            add_problem(out, "GCSTATS_FD and GCSTATS_FILE=%.200s are both set; GCSTATS_FD wins",
                        env->file);
    } else if (env->file != NULL) {
        if (gcs_expand_path(env->file, pid, out->path, sizeof out->path)) {
            out->dest = GCS_DEST_FILE;
        } else {
            out->dest_ok = false;
            add_problem(out, "GCSTATS_FILE=%.200s is empty or too long a path; gcstats writes nothing",
                        env->file);
        }
    }

    if (env->interval != NULL && !gcs_parse_interval_ms(env->interval, &out->interval_ms)) {
        out->interval_ms = GCS_DEFAULT_INTERVAL_MS;
        add_problem(out, "GCSTATS_INTERVAL=%.200s is not a number of seconds from 0 to 86400; using 10",
                    env->interval);
    }
}
