/* gcstats tail [-n N] [FILE...]: gcstats lines as readable text, one per
 * event, following the files as tail -F does (or standard input to its
 * end). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "follow.h"
#include "render.h"

#define TAIL_USAGE "usage: gcstats tail [-n N] [FILE...]\n" \
    "Shows each gcstats line of the FILEs (or of standard input) as one line of text, the last N\n" \
    "lines of each file first (default 10), then follows them as tail -F does.\n"

struct tail_state {
    bool colour;
    bool name_lines;   /* several files: each line says which */
};

static void show_line(void *ctx, const char *name, const char *line, size_t len, unsigned long line_no)
{
    struct tail_state *t = ctx;
    char text[8192];
    if (len == 0)
        return;
    switch (gcs_render_line(line, len, t->colour, text, sizeof text)) {
    case GCS_RENDER_OK:
        if (t->name_lines)
            printf("%s: %s\n", name, text);
        else
            printf("%s\n", text);
        break;
    case GCS_RENDER_NOT_JSON:
        fflush(stdout);
        fprintf(stderr, "%s:%lu: not JSON\n", name, line_no);
        break;
    case GCS_RENDER_NOT_GCSTATS:
        fflush(stdout);
        fprintf(stderr, "%s:%lu: not a gcstats line (no \"event\")\n", name, line_no);
        break;
    }
}

/* Colours only for a person at a terminal, and never with NO_COLOR set
 * (https://no-color.org: any value but the empty string). */
static bool want_colour(void)
{
    const char *no = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && (no == NULL || *no == '\0');
}

static bool parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

int gcs_cmd_tail(int argc, char **argv)
{
    struct gcs_follow_options options = { .last_lines = 10, .poll_ms = 200 };
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        const char *count = NULL;
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(TAIL_USAGE, stdout);
            return 0;
        } else if (strcmp(arg, "-n") == 0 || strcmp(arg, "--lines") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "gcstats tail: %s needs a number\n", arg);
                return GCS_EXIT_USAGE;
            }
            count = argv[++i];
        } else if (strncmp(arg, "-n", 2) == 0) {
            count = arg + 2;
        } else if (strncmp(arg, "--lines=", 8) == 0) {
            count = arg + 8;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "gcstats tail: unknown option %s\n" TAIL_USAGE, arg);
            return GCS_EXIT_USAGE;
        } else {
            break;
        }
        if (count != NULL && !parse_count(count, &options.last_lines)) {
            fprintf(stderr, "gcstats tail: -n %s is not a number of lines\n", count);
            return GCS_EXIT_USAGE;
        }
    }
    int files = argc - i;
    if (files == 1 && strcmp(argv[i], "-") == 0)
        files = 0;
    for (int k = i; k < i + files; k++) {
        if (strcmp(argv[k], "-") == 0) {
            fprintf(stderr, "gcstats tail: standard input (-) is read alone, not with files\n");
            return GCS_EXIT_USAGE;
        }
    }
    struct tail_state state = { .colour = want_colour(), .name_lines = files > 1 };
    return gcs_follow(argv + i, files, &options, show_line, &state);
}
