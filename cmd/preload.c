#include "preload.h"

#include <stdio.h>
#include <string.h>

static bool has_entry(const char *list, const char *entry)
{
    size_t len = strlen(entry);
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ": ");
        if (n == len && memcmp(p, entry, len) == 0)
            return true;
        p += n;
        if (*p)
            p++;
    }
    return false;
}

bool gcs_preload_join(const char *existing, const char *lib, char *out, size_t cap)
{
    int n;
    if (existing == NULL || existing[strspn(existing, ": ")] == '\0')
        n = snprintf(out, cap, "%s", lib);
    else if (has_entry(existing, lib))
        n = snprintf(out, cap, "%s", existing);
    else
        n = snprintf(out, cap, "%s:%s", existing, lib);
    return n >= 0 && (size_t)n < cap;
}

/* "../" once per component of a relative directory ("bin" -> "../"). */
static int ups(const char *dir, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = dir; *p;) {
        size_t n = strcspn(p, "/");
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (used + 3 >= cap)
                return -1;
            memcpy(out + used, "../", 4);
            used += 3;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return (int)used;
}

int gcs_library_candidates(const char *exe_dir, const char *bindir, const char *libdir,
                           const char *prefix, char out[GCS_CANDIDATES_MAX][GCS_CMD_PATH_MAX])
{
    int count = 0;
    char up[256];
    if (bindir[0] != '/' && libdir[0] != '/' && ups(bindir, up, sizeof up) >= 0) {
        int n = snprintf(out[count], GCS_CMD_PATH_MAX, "%s/%s%s/gcstats/" GCS_LIBRARY_NAME, exe_dir, up, libdir);
        if (n > 0 && n < GCS_CMD_PATH_MAX)
            count++;
    }
    int n = snprintf(out[count], GCS_CMD_PATH_MAX, "%s/../" GCS_LIBRARY_NAME, exe_dir);
    if (n > 0 && n < GCS_CMD_PATH_MAX)
        count++;
    if (libdir[0] == '/')
        n = snprintf(out[count], GCS_CMD_PATH_MAX, "%s/gcstats/" GCS_LIBRARY_NAME, libdir);
    else
        n = snprintf(out[count], GCS_CMD_PATH_MAX, "%s/%s/gcstats/" GCS_LIBRARY_NAME, prefix, libdir);
    if (n > 0 && n < GCS_CMD_PATH_MAX)
        count++;
    return count;
}
