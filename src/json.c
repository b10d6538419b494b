#include "json.h"

#include <string.h>

static void put(struct gcs_json *j, const char *s, size_t n)
{
    if (j->overflow || n > sizeof j->buf - j->len) {
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static void putc1(struct gcs_json *j, char c)
{
    put(j, &c, 1);
}

/* The decimal digits of v at out (at most 20, no NUL); returns how many. */
static size_t format_u64(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    memcpy(out, tmp + sizeof tmp - n, n);
    return n;
}

static void put_u64(struct gcs_json *j, uint64_t v)
{
    char digits[20];
    put(j, digits, format_u64(v, digits));
}

void gcs_json_begin(struct gcs_json *j)
{
    j->len = 0;
    j->overflow = false;
    j->need_comma = false;
    putc1(j, '{');
}

void gcs_json_key(struct gcs_json *j, const char *key)
{
    if (j->need_comma)
        putc1(j, ',');
    j->need_comma = true;
    if (key == NULL)
        return;
    putc1(j, '"');
    put(j, key, strlen(key));   /* keys are our own literals: no escaping needed */
    put(j, "\":", 2);
}

void gcs_json_u64(struct gcs_json *j, const char *key, uint64_t v)
{
    gcs_json_key(j, key);
    put_u64(j, v);
}

void gcs_json_i64(struct gcs_json *j, const char *key, int64_t v)
{
    gcs_json_key(j, key);
    if (v < 0) {
        putc1(j, '-');
        put_u64(j, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(j, (uint64_t)v);
    }
}

void gcs_json_bool(struct gcs_json *j, const char *key, bool v)
{
    gcs_json_key(j, key);
    if (v)
        put(j, "true", 4);
    else
        put(j, "false", 5);
}

void gcs_json_null(struct gcs_json *j, const char *key)
{
    gcs_json_key(j, key);
    put(j, "null", 4);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    unsigned cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void gcs_json_str(struct gcs_json *j, const char *key, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    gcs_json_key(j, key);
    if (s == NULL) {
        put(j, "null", 4);
        return;
    }
    putc1(j, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            put(j, e, 2);
            p++;
        } else if (c < 0x20) {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            put(j, e, 6);
            p++;
        } else {
            size_t n = utf8_seq_len(p);
            if (n == 0) {
                put(j, "\xEF\xBF\xBD", 3);
                p++;
            } else {
                put(j, (const char *)p, n);
                p += n;
            }
        }
    }
    putc1(j, '"');
}

size_t gcs_format_fixed(double v, int decimals, char out[GCS_FIXED_MAX])
{
    static const double scale[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
    out[0] = '\0';
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    if (!(v >= -9e15 && v <= 9e15))     /* also false for NaN */
        return 0;
    /* Scaled and rounded to an integer: 9e15 * 1e6 exceeds 2^63, so split. */
    bool negative = v < 0;
    double a = negative ? -v : v;
    uint64_t whole = (uint64_t)a;   /* truncation: a < 9e15 < 2^63 */
    uint64_t frac = (uint64_t)((a - (double)whole) * scale[decimals] + 0.5);
    if (frac >= (uint64_t)scale[decimals]) {   /* 0.9996 rounds up into the whole part */
        whole++;
        frac = 0;
    }
    size_t n = 0;
    if (negative && (whole != 0 || frac != 0))
        out[n++] = '-';
    n += format_u64(whole, out + n);
    if (decimals > 0) {
        out[n++] = '.';
        for (int i = decimals - 1; i >= 0; i--) {
            out[n + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)decimals;
    }
    out[n] = '\0';
    return n;
}

void gcs_json_fixed(struct gcs_json *j, const char *key, double v, int decimals)
{
    char text[GCS_FIXED_MAX];
    size_t n = gcs_format_fixed(v, decimals, text);
    if (n == 0) {
        gcs_json_null(j, key);
        return;
    }
    gcs_json_key(j, key);
    put(j, text, n);
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static void put_digits(char *out, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void gcs_format_iso8601(int64_t epoch_ms, char out[25])
{
    int64_t ms = epoch_ms % 1000;
    int64_t secs = epoch_ms / 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(rem / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(rem / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(rem % 60), 2);
    out[19] = '.';
    put_digits(out + 20, (unsigned)ms, 3);
    out[23] = 'Z';
    out[24] = '\0';
}

void gcs_json_time(struct gcs_json *j, const char *key, int64_t epoch_ms)
{
    char iso[25];
    gcs_format_iso8601(epoch_ms, iso);
    gcs_json_key(j, key);
    putc1(j, '"');
    put(j, iso, 24);
    putc1(j, '"');
}

void gcs_json_object_begin(struct gcs_json *j, const char *key)
{
    gcs_json_key(j, key);
    putc1(j, '{');
    j->need_comma = false;
}

void gcs_json_object_end(struct gcs_json *j)
{
    putc1(j, '}');
    j->need_comma = true;
}

void gcs_json_array_begin(struct gcs_json *j, const char *key)
{
    gcs_json_key(j, key);
    putc1(j, '[');
    j->need_comma = false;
}

void gcs_json_array_end(struct gcs_json *j)
{
    putc1(j, ']');
    j->need_comma = true;
}

size_t gcs_json_end(struct gcs_json *j)
{
    put(j, "}\n", 2);
    return j->overflow ? 0 : j->len;
}
