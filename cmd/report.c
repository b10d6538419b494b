/* gcstats report FILE ... [-o report.html]: reads the files line by line
 * (memory does not grow with them) and writes the report. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The lines are shorter than 4096 bytes; anything much longer is not one. */
#define LINE_MAX_BYTES 65536

static void warn_stderr(void *ctx, const char *message)
{
    (void)ctx;
    fprintf(stderr, "gcstats report: %s\n", message);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: gcstats report FILE... [-o REPORT.html]\n"
                 "  Sums up gcstats logs per process and isolate: text on standard output,\n"
                 "  or with -o one self-contained HTML page with charts. FILE - is standard input.\n");
}

/* One line into buf (without its newline, NUL bytes and all); the part
 * of a line past max bytes is read and dropped. Returns false at the end. */
static bool read_line(FILE *in, char *buf, size_t max, size_t *len, bool *newline, bool *too_long)
{
    size_t n = 0;
    int c;
    *too_long = false;
    while ((c = getc_unlocked(in)) != EOF) {
        if (c == '\n') {
            *len = n;
            *newline = true;
            return true;
        }
        if (n < max)
            buf[n++] = (char)c;
        else
            *too_long = true;
    }
    *len = n;
    *newline = false;
    return n > 0 || *too_long;
}

/* Reads one file; returns false if it could not be opened. */
static bool read_file(struct gcs_report *r, const char *path, char *buf)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "gcstats report: %s: %s\n", path, strerror(errno));
        return false;
    }
    gcs_report_file_begin(r, strcmp(path, "-") == 0 ? "(stdin)" : path);
    uint64_t line_no = 0;
    size_t len;
    bool newline, too_long;
    while (read_line(in, buf, LINE_MAX_BYTES, &len, &newline, &too_long)) {
        line_no++;
        if (too_long)
            gcs_report_bad(r, line_no, "line longer than 64 KiB: not a gcstats line, skipped");
        else
            gcs_report_take(r, line_no, buf, len, !newline);
    }
    if (ferror(in))
        fprintf(stderr, "gcstats report: %s:%llu: %s (the rest is not read)\n", path,
                (unsigned long long)line_no + 1, strerror(errno));
    gcs_report_file_end(r);
    if (in != stdin)
        fclose(in);
    return true;
}

int gcs_cmd_report(int argc, char **argv)
{
    const char *output = NULL;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    if (!files)
        return 2;
    bool options = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = false;
        } else if (options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            free(files);
            return 0;
        } else if (options && (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gcstats report: %s needs a file name\n", a);
                usage(stderr);
                free(files);
                return 2;
            }
            output = argv[++i];
        } else if (options && strncmp(a, "-o", 2) == 0) {
            output = a + 2;
        } else if (options && strncmp(a, "--output=", 9) == 0) {
            output = a + 9;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "gcstats report: unknown option %s\n", a);
            usage(stderr);
            free(files);
            return 2;
        } else {
            files[n_files++] = argv[i];
        }
    }
    if (n_files == 0) {
        usage(stderr);
        free(files);
        return 2;
    }

    char *buf = malloc(LINE_MAX_BYTES);
    struct gcs_report r;
    gcs_report_init(&r, warn_stderr, NULL);
    for (int i = 0; buf && i < n_files; i++)
        read_file(&r, files[i], buf);
    free(buf);

    int status = 0;
    if (r.n_groups == 0) {
        fprintf(stderr, "gcstats report: no gcstats line could be read\n");
        status = 1;
    } else if (output) {
        FILE *out = fopen(output, "w");
        if (!out) {
            fprintf(stderr, "gcstats report: %s: %s\n", output, strerror(errno));
            status = 1;
        } else {
            gcs_report_write_html(&r, out, files, n_files);
            if (fclose(out) != 0) {
                fprintf(stderr, "gcstats report: %s: %s\n", output, strerror(errno));
                status = 1;
            }
        }
    } else {
        gcs_report_write_text(&r, stdout);
        if (fflush(stdout) != 0)
            status = 1;
    }
    gcs_report_free(&r);
    free(files);
    return status;
}
