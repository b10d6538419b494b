/* Finding the library, and reading the settings' options: what run and
 * env share. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "preload.h"

bool gcs_find_library(char *out, size_t cap)
{
    const char *forced = getenv("GCSTATS_LIBRARY");
    char found[PATH_MAX];
    if (forced != NULL && *forced != '\0') {
        if (realpath(forced, found) == NULL || access(found, R_OK) != 0) {
            fprintf(stderr, "gcstats: GCSTATS_LIBRARY=%s: %s\n", forced, strerror(errno));
            return false;
        }
        snprintf(out, cap, "%s", found);
        return true;
    }
    /* the kernel's link is the executable's real path, symlinks resolved:
     * a gcstats linked from elsewhere still looks beside its real self */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "gcstats: cannot read /proc/self/exe: %s\n", strerror(errno));
        return false;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash != NULL)
        *slash = '\0';
    char candidates[GCS_CANDIDATES_MAX][GCS_CMD_PATH_MAX];
    int count = gcs_library_candidates(exe, GCSTATS_BINDIR, GCSTATS_LIBDIR, GCSTATS_PREFIX, candidates);
    for (int i = 0; i < count; i++) {
        if (realpath(candidates[i], found) != NULL && access(found, R_OK) == 0) {
            snprintf(out, cap, "%s", found);
            return true;
        }
    }
    fprintf(stderr, "gcstats: cannot find " GCS_LIBRARY_NAME " in:\n");
    for (int i = 0; i < count; i++)
        fprintf(stderr, "  %s\n", candidates[i]);
    fprintf(stderr, "set GCSTATS_LIBRARY=PATH to name it\n");
    return false;
}

/* Whether an entry of list, resolved, is the library lib (a real path):
 * the same file named another way (a symlink, a relative path) would
 * otherwise be preloaded twice. */
static bool names_library(const char *list, const char *lib)
{
    char entry[PATH_MAX], resolved[PATH_MAX];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ": ");
        if (n > 0 && n < sizeof entry) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            if (realpath(entry, resolved) != NULL && strcmp(resolved, lib) == 0)
                return true;
        }
        p += n;
        if (*p)
            p++;
    }
    return false;
}

bool gcs_preload_value(const char *lib, char *out, size_t cap)
{
    const char *existing = getenv("LD_PRELOAD");
    if (existing != NULL && names_library(existing, lib)) {
        int n = snprintf(out, cap, "%s", existing);
        return n >= 0 && (size_t)n < cap;
    }
    return gcs_preload_join(existing, lib, out, cap);
}

int gcs_read_settings(const char *name, const char *usage, int argc, char **argv, bool stop_at_operand,
                      struct gcs_chosen *chosen, int *next)
{
    char error[GCS_CMD_ERROR_MAX];
    switch (gcs_parse_settings(argc - 1, argv + 1, stop_at_operand, chosen, next, error)) {
    case GCS_ARGS_OK:
        (*next)++;
        return -1;
    case GCS_ARGS_HELP: {
        char help[4096];
        gcs_settings_help(help, sizeof help);
        printf("usage: gcstats %s %s\n\nsettings (each sets its GCSTATS_ variable; see gcstats(7)):\n%s",
               name, usage, help);
        return 0;
    }
    case GCS_ARGS_BAD:
        break;
    }
    fprintf(stderr, "gcstats %s: %s\n(gcstats %s --help lists the options)\n", name, error, name);
    return GCS_EXIT_USAGE;
}
