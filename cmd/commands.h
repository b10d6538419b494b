/* The subcommands of the gcstats command, and what they share. */
#ifndef GCSTATS_CMD_COMMANDS_H
#define GCSTATS_CMD_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "settings.h"

/* Exit status of a usage error: a bad option or value; nothing was run. */
#define GCS_EXIT_USAGE 2

/* Each takes the arguments after its own name (argv[0] is the name). */
int gcs_cmd_run(int argc, char **argv);
int gcs_cmd_env(int argc, char **argv);
int gcs_cmd_tail(int argc, char **argv);
int gcs_cmd_report(int argc, char **argv);   /* report.h */
int gcs_cmd_exporter(int argc, char **argv);

/* The library to preload, as an absolute real path: GCSTATS_LIBRARY when
 * set, else the first that exists of gcs_library_candidates. False, with
 * a message on stderr, when there is none. */
bool gcs_find_library(char *out, size_t cap);

/* The LD_PRELOAD that loads lib (a real path): this process' own
 * LD_PRELOAD with lib appended (gcs_preload_join), or unchanged when one
 * of its entries is lib already, under any name. False when too long. */
bool gcs_preload_value(const char *lib, char *out, size_t cap);

/* Reads the settings' options at argv[1..) for `gcstats NAME`, printing
 * the usage on --help and a message on a bad option. Returns -1 to go on,
 * or the exit status to end with. */
int gcs_read_settings(const char *name, const char *usage, int argc, char **argv, bool stop_at_operand,
                      struct gcs_chosen *chosen, int *next);

#endif
