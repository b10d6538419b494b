#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "config.h"

#define FIELD(name) offsetof(struct gcs_env, name)

const struct gcs_setting gcs_settings[] = {
    { "file", FIELD(file), "GCSTATS_FILE", "PATH",
      "append the lines to PATH; %p in it becomes the pid (default: standard error)" },
    { "fd", FIELD(fd), "GCSTATS_FD", "N",
      "write the lines to the already open file descriptor N" },
    { "interval", FIELD(interval), "GCSTATS_INTERVAL", "SECONDS",
      "period of tick lines, 0 for none (default 10)" },
    { "leak-min-span", FIELD(leak_min_span), "GCSTATS_LEAK_MIN_SPAN", "SECONDS",
      "the least time the leak detector needs samples over (default 20)" },
    { "leak-min-growth", FIELD(leak_min_growth), "GCSTATS_LEAK_MIN_GROWTH", "BYTES",
      "the least growth that can count as a leak, with k, M or G (default 1M)" },
    { "leak-report", FIELD(leak_report), "GCSTATS_LEAK_REPORT", "SECONDS",
      "report a leak that goes on again this often (default 60)" },
    { "maps", FIELD(maps), "GCSTATS_MAPS", "0|1",
      "count mapped memory by owner and call site (default 1)" },
    { "sites", FIELD(sites), "GCSTATS_SITES", "SECONDS",
      "period of sites lines, the call sites holding the most mapped memory (default 0: none)" },
    { "probe", FIELD(probe), "GCSTATS_PROBE", "SECONDS",
      "the longest wait for a full GC while the verdict needs samples, 0 to never ask V8 for one (default 5)" },
    { "probe-budget", FIELD(probe_budget), "GCSTATS_PROBE_BUDGET", "PERCENT",
      "the most CPU the full GCs gcstats asks for may cost, in percent of the application's (default 1)" },
    { "culprits", FIELD(culprits), "GCSTATS_CULPRITS", "MODE",
      "auto, always or off: when V8's heap sampler runs to name the code behind a growing heap (default auto)" },
    { "culprits-interval", FIELD(culprits_interval), "GCSTATS_CULPRITS_INTERVAL", "BYTES",
      "the heap sampler's mean interval, with k, M or G (default 512k)" },
    { "profile-dir", FIELD(profile_dir), "GCSTATS_PROFILE_DIR", "DIR",
      "also write each culprits line's whole profile to DIR as a .heapprofile file (default: none)" },
};
const size_t gcs_settings_count = sizeof gcs_settings / sizeof gcs_settings[0];

const struct gcs_option gcs_exporter_options[] = {
    { "listen", "ADDR:PORT",
      "serve the metrics on this address and port, e.g. 127.0.0.1:9464, [::1]:9464 or :9464 for every address (required)" },
    { "path", "PATH", "serve the metrics at this URL path (default /metrics)" },
    { "stale", "SECONDS",
      "drop a process or isolate with no new line for this long; keep it above the tick interval (default 60)" },
};
const size_t gcs_exporter_options_count = sizeof gcs_exporter_options / sizeof gcs_exporter_options[0];

_Static_assert(sizeof gcs_exporter_options / sizeof gcs_exporter_options[0] <= GCS_OPTIONS_MAX,
               "GCS_OPTIONS_MAX holds every exporter option");

_Static_assert(sizeof gcs_settings / sizeof gcs_settings[0] <= sizeof ((struct gcs_chosen *)0)->value /
               sizeof ((struct gcs_chosen *)0)->value[0], "gcs_chosen holds every setting");

int gcs_setting_index(const char *option)
{
    for (size_t i = 0; i < gcs_settings_count; i++)
        if (strcmp(gcs_settings[i].option, option) == 0)
            return (int)i;
    return -1;
}

/* The library's message for a bad value ends with what it does instead
 * ("; using 10"); the command runs nothing instead, so that part goes. */
static void copy_problem(char *out, size_t cap, const char *problem)
{
    const char *cut = strstr(problem, "; ");
    int len = cut ? (int)(cut - problem) : (int)strlen(problem);
    snprintf(out, cap, "%.*s", len, problem);
}

/* The library's first problem with env, or NULL. */
static const char *first_problem(const struct gcs_env *env, struct gcs_config *config)
{
    gcs_config_parse(env, 1, config);
    return config->problems > 0 ? config->problem[0] : NULL;
}

/* Checks each chosen value alone, naming its option, and then all of them
 * together (--maps 0 with --sites), as the library would read them. */
static bool check_values(const struct gcs_chosen *chosen, char error[GCS_CMD_ERROR_MAX])
{
    struct gcs_env env;
    struct gcs_config config;
    const char *problem;
    char text[GCS_MESSAGE_MAX];
    memset(&env, 0, sizeof env);
    for (size_t i = 0; i < gcs_settings_count; i++) {
        if (chosen->value[i] == NULL)
            continue;
        struct gcs_env alone;
        memset(&alone, 0, sizeof alone);
        *(const char **)((char *)&alone + gcs_settings[i].env_offset) = chosen->value[i];
        *(const char **)((char *)&env + gcs_settings[i].env_offset) = chosen->value[i];
        if ((problem = first_problem(&alone, &config)) != NULL) {
            copy_problem(text, sizeof text, problem);
            snprintf(error, GCS_CMD_ERROR_MAX, "--%s %s: %s", gcs_settings[i].option, chosen->value[i], text);
            return false;
        }
    }
    if (env.fd != NULL && env.file != NULL) {
        snprintf(error, GCS_CMD_ERROR_MAX, "--file and --fd are two destinations: give one");
        return false;
    }
    if ((problem = first_problem(&env, &config)) != NULL) {
        copy_problem(text, sizeof text, problem);
        snprintf(error, GCS_CMD_ERROR_MAX, "%s", text);
        return false;
    }
    return true;
}

enum gcs_args_result gcs_parse_settings(int argc, char **argv, bool stop_at_operand,
                                        struct gcs_chosen *chosen, int *next,
                                        char error[GCS_CMD_ERROR_MAX])
{
    int i = 0;
    memset(chosen, 0, sizeof *chosen);
    error[0] = '\0';
    while (i < argc) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *next = i + 1;
            return GCS_ARGS_HELP;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (stop_at_operand && arg[0] != '-')
                break;
            snprintf(error, GCS_CMD_ERROR_MAX, arg[0] == '-' ? "unknown option %s" : "unexpected argument %s", arg);
            *next = i;
            return GCS_ARGS_BAD;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        char option[64];
        int name_len = eq ? (int)(eq - name) : (int)strlen(name);
        if (name_len >= (int)sizeof option) {
            snprintf(error, GCS_CMD_ERROR_MAX, "unknown option --%.*s", 60, name);
            *next = i;
            return GCS_ARGS_BAD;
        }
        memcpy(option, name, (size_t)name_len);
        option[name_len] = '\0';
        int index = gcs_setting_index(option);
        if (index < 0) {
            snprintf(error, GCS_CMD_ERROR_MAX, "unknown option --%s", option);
            *next = i;
            return GCS_ARGS_BAD;
        }
        const char *value;
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(error, GCS_CMD_ERROR_MAX, "--%s needs a value (%s)", option, gcs_settings[index].metavar);
            *next = i;
            return GCS_ARGS_BAD;
        }
        chosen->value[index] = value;
        i++;
    }
    *next = i;
    return check_values(chosen, error) ? GCS_ARGS_OK : GCS_ARGS_BAD;
}

enum gcs_args_result gcs_parse_options(const struct gcs_option *options, size_t count, int argc, char **argv,
                                       const char *values[GCS_OPTIONS_MAX], char **operands, int *n_operands,
                                       char error[GCS_CMD_ERROR_MAX])
{
    bool only_operands = false;
    memset(values, 0, GCS_OPTIONS_MAX * sizeof values[0]);
    *n_operands = 0;
    error[0] = '\0';
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_operands || arg[0] != '-' || strcmp(arg, "-") == 0) {
            operands[(*n_operands)++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_operands = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return GCS_ARGS_HELP;
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        size_t k = 0;
        while (k < count && !(strncmp(options[k].option, name, name_len) == 0 && options[k].option[name_len] == '\0'))
            k++;
        if (strncmp(arg, "--", 2) != 0 || k == count) {
            snprintf(error, GCS_CMD_ERROR_MAX, "unknown option %.*s", eq ? (int)(eq - arg) : 100, arg);
            return GCS_ARGS_BAD;
        }
        if (eq == NULL && i + 1 >= argc) {
            snprintf(error, GCS_CMD_ERROR_MAX, "--%s needs a value (%s)", options[k].option, options[k].metavar);
            return GCS_ARGS_BAD;
        }
        values[k] = eq ? eq + 1 : argv[++i];
    }
    return GCS_ARGS_OK;
}

/* Appends "  --NAME METAVAR  HELP\n" at out + *total; false on an error. */
static bool help_line(const char *option, const char *metavar, const char *help, char *out, size_t cap, int *total)
{
    char head[64];
    snprintf(head, sizeof head, "--%s %s", option, metavar);
    int n = snprintf(cap > (size_t)*total ? out + *total : NULL, cap > (size_t)*total ? cap - (size_t)*total : 0,
                     "  %-26s %s\n", head, help);
    if (n < 0)
        return false;
    *total += n;
    return true;
}

int gcs_options_help(const struct gcs_option *options, size_t count, char *out, size_t cap)
{
    int total = 0;
    for (size_t i = 0; i < count; i++)
        if (!help_line(options[i].option, options[i].metavar, options[i].help, out, cap, &total))
            return -1;
    return total;
}

int gcs_settings_help(char *out, size_t cap)
{
    int total = 0;
    for (size_t i = 0; i < gcs_settings_count; i++)
        if (!help_line(gcs_settings[i].option, gcs_settings[i].metavar, gcs_settings[i].help, out, cap, &total))
            return -1;
    return total;
}

bool gcs_env_value_safe(const char *value)
{
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        /* whitespace splits words, quotes and backslashes stay as they are
         * in export $(...) but not in EnvironmentFile=, $ and ` expand in
         * neither the same way, and *?[ are globs to the shell */
        if (*p <= ' ' || *p == 0x7f || strchr("'\"\\$`*?[", *p) != NULL)
            return false;
    }
    return true;
}
