/* The settings of the gcstats command: one table of every GCSTATS_
 * variable a user may set, which drives the options of `run` and `env`,
 * their --help and the man page's OPTIONS. Pure: no syscalls. */
#ifndef GCSTATS_CMD_SETTINGS_H
#define GCSTATS_CMD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

struct gcs_setting {
    const char *option;    /* the long option without "--" */
    size_t env_offset;     /* where the value goes in the library's struct gcs_env
                              (src/config.h), whose parser checks it */
    const char *variable;  /* the environment variable it sets */
    const char *metavar;   /* what its value is, e.g. SECONDS */
    const char *help;      /* one sentence, with its default */
};

extern const struct gcs_setting gcs_settings[];
extern const size_t gcs_settings_count;

/* The values given on a command line, by index in gcs_settings; NULL when
 * not given. */
struct gcs_chosen {
    const char *value[16];
};

#define GCS_CMD_ERROR_MAX 600

enum gcs_args_result {
    GCS_ARGS_OK,
    GCS_ARGS_HELP,   /* -h or --help */
    GCS_ARGS_BAD,    /* error[] says why */
};

/* Reads the options at argv[0..argc): "--NAME VALUE", "--NAME=VALUE", -h,
 * --help. Stops at "--" (skipped) or at the first argument that is not an
 * option when stop_at_operand; otherwise such an argument is an error.
 * *next is the index of the first argument not read. Each value is
 * checked with the library's own parser (src/config.c), so that the
 * command refuses exactly what the library would refuse, with its words. */
enum gcs_args_result gcs_parse_settings(int argc, char **argv, bool stop_at_operand,
                                        struct gcs_chosen *chosen, int *next,
                                        char error[GCS_CMD_ERROR_MAX]);

/* The index of the setting for an option name ("interval") or -1. */
int gcs_setting_index(const char *option);

/* Writes the options' help: one per setting, "  --NAME METAVAR  HELP",
 * each line ending in '\n'. Returns what snprintf would. */
int gcs_settings_help(char *out, size_t cap);

/* Whether a value can stand as VALUE in a KEY=VALUE line read both by
 * systemd's EnvironmentFile= and by a shell's `export $(...)`, which
 * splits words and expands globs but removes no quotes. */
bool gcs_env_value_safe(const char *value);

/* Options of a subcommand that are not library settings (gcstats
 * exporter's): the same table drives their parsing, --help and the man
 * page. */
struct gcs_option {
    const char *option;    /* the long option without "--" */
    const char *metavar;   /* what its value is, e.g. SECONDS */
    const char *help;      /* one sentence, with its default */
};

extern const struct gcs_option gcs_exporter_options[];
extern const size_t gcs_exporter_options_count;

#define GCS_OPTIONS_MAX 8

/* Reads "--NAME VALUE", "--NAME=VALUE", -h and --help anywhere in
 * argv[0..argc), and every other argument (all after "--") as an operand:
 * values[i] is the value of options[i] or NULL, operands[0..*n_operands)
 * point into argv (operands has room for argc). */
enum gcs_args_result gcs_parse_options(const struct gcs_option *options, size_t count, int argc, char **argv,
                                       const char *values[GCS_OPTIONS_MAX], char **operands, int *n_operands,
                                       char error[GCS_CMD_ERROR_MAX]);

/* "  --NAME METAVAR  HELP\n" per option, as gcs_settings_help. */
int gcs_options_help(const struct gcs_option *options, size_t count, char *out, size_t cap);

#endif
