/* gcstats run [options] [--] COMMAND [ARGS]: COMMAND with the library
 * preloaded and the settings in its environment. gcstats replaces itself
 * with COMMAND (execvp), so that the pid, the exit status and the signals
 * are COMMAND's own: a service manager or a container runtime sees
 * COMMAND itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "preload.h"

int gcs_cmd_run(int argc, char **argv)
{
    struct gcs_chosen chosen;
    int next;
    int done = gcs_read_settings("run", "[options] [--] COMMAND [ARGS...]", argc, argv, true, &chosen, &next);
    if (done >= 0)
        return done;
    if (next >= argc) {
        fprintf(stderr, "gcstats run: no COMMAND to run\n(gcstats run --help lists the options)\n");
        return GCS_EXIT_USAGE;
    }
    int fd_index = gcs_setting_index("fd");
    if (chosen.value[fd_index] != NULL) {
        /* the library would stay silent; say it before anything runs */
        int flags = fcntl(atoi(chosen.value[fd_index]), F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
            fprintf(stderr, "gcstats run: --fd %s: not a descriptor open for writing\n", chosen.value[fd_index]);
            return GCS_EXIT_USAGE;
        }
    }
    char lib[PATH_MAX];
    if (!gcs_find_library(lib, sizeof lib))
        return GCS_EXIT_USAGE;

    for (size_t i = 0; i < gcs_settings_count; i++)
        if (chosen.value[i] != NULL)
            setenv(gcs_settings[i].variable, chosen.value[i], 1);
    /* one destination: the library prefers GCSTATS_FD, so a --file given
     * here must not lose to a GCSTATS_FD inherited from the environment */
    if (chosen.value[gcs_setting_index("file")] != NULL)
        unsetenv("GCSTATS_FD");
    if (chosen.value[fd_index] != NULL)
        unsetenv("GCSTATS_FILE");

    static char preload[GCS_CMD_PATH_MAX * 4];
    if (!gcs_preload_value(lib, preload, sizeof preload)) {
        fprintf(stderr, "gcstats run: LD_PRELOAD is too long\n");
        return GCS_EXIT_USAGE;
    }
    setenv("LD_PRELOAD", preload, 1);

    execvp(argv[next], argv + next);
    /* as env(1) and the shells say it: 127 not found, 126 not runnable */
    int err = errno;
    fprintf(stderr, "gcstats run: %s: %s\n", argv[next], strerror(err));
    return err == ENOENT ? 127 : 126;
}
