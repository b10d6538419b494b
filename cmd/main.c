/* gcstats: the command. `gcstats SUBCOMMAND ...`, one entry per
 * subcommand in the table below. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct subcommand {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
};

/* Every subcommand, in the order --help lists them: add one here. */
static const struct subcommand subcommands[] = {
    { "run", gcs_cmd_run, "run a command with gcstats preloaded: gcstats run [options] -- COMMAND [ARGS]" },
    { "env", gcs_cmd_env, "print the environment gcstats run would set, as KEY=VALUE lines" },
    { "tail", gcs_cmd_tail, "follow gcstats logs as readable lines: gcstats tail [-n N] [FILE...]" },
    { "report", gcs_cmd_report, "sum up gcstats logs per process, as text or HTML with charts: "
                                "gcstats report FILE... [-o report.html]" },
#ifdef GCSTATS_EXPORTER
    { "exporter", gcs_cmd_exporter, "serve gcstats logs as Prometheus metrics: "
                                    "gcstats exporter --listen ADDR:PORT LOG|DIR..." },
#endif
};

static void usage(FILE *to)
{
    fprintf(to, "usage: gcstats SUBCOMMAND [ARGS...]\n\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(to, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(to, "\ngcstats SUBCOMMAND --help gives its options; man gcstats, and man 7 gcstats for the "
                "settings and the lines.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return GCS_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("gcstats %s\n", GCSTATS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(name, subcommands[i].name) == 0)
            return subcommands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "gcstats: unknown subcommand %s\n", name);
    usage(stderr);
    return GCS_EXIT_USAGE;
}
