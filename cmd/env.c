/* gcstats env [options]: the environment `gcstats run` would give, as
 * KEY=VALUE lines, for a systemd unit's EnvironmentFile= or a shell's
 * export $(gcstats env ...). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "preload.h"

static bool check_value(const char *key, const char *value)
{
    if (gcs_env_value_safe(value))
        return true;
    fprintf(stderr, "gcstats env: %s=%s: a value with blanks, quotes, $, ` or glob characters "
                    "cannot be written for both EnvironmentFile= and export; use gcstats run\n", key, value);
    return false;
}

int gcs_cmd_env(int argc, char **argv)
{
    struct gcs_chosen chosen;
    int next;
    int done = gcs_read_settings("env", "[options]", argc, argv, false, &chosen, &next);
    if (done >= 0)
        return done;
    if (next < argc) {
        fprintf(stderr, "gcstats env: unexpected %s (to run a command: gcstats run)\n", argv[next]);
        return GCS_EXIT_USAGE;
    }
    char lib[PATH_MAX];
    static char preload[GCS_CMD_PATH_MAX * 4];
    if (!gcs_find_library(lib, sizeof lib))
        return GCS_EXIT_USAGE;
    /* kept as in run: an allocator preloaded in this environment stays */
    if (!gcs_preload_value(lib, preload, sizeof preload)) {
        fprintf(stderr, "gcstats env: LD_PRELOAD is too long\n");
        return GCS_EXIT_USAGE;
    }
    /* all or nothing: half an environment file would be worse than none */
    bool ok = check_value("LD_PRELOAD", preload);
    for (size_t i = 0; i < gcs_settings_count; i++)
        if (chosen.value[i] != NULL)
            ok = check_value(gcs_settings[i].variable, chosen.value[i]) && ok;
    if (!ok)
        return GCS_EXIT_USAGE;
    printf("LD_PRELOAD=%s\n", preload);
    for (size_t i = 0; i < gcs_settings_count; i++)
        if (chosen.value[i] != NULL)
            printf("%s=%s\n", gcs_settings[i].variable, chosen.value[i]);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gcstats env");
        return 1;
    }
    return 0;
}
