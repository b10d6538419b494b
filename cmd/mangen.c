/* Writes gcstats(1) from its template, with the settings' options taken
 * from the one table that also drives parsing and --help (settings.c):
 *   gcstats-mangen TEMPLATE OUTPUT
 * The template's line "@SETTINGS@" becomes one .TP entry per setting,
 * and "@EXPORTER_OPTIONS@" one per option of gcstats exporter. */
#include <stdio.h>
#include <string.h>

#include "settings.h"

/* Text for roff: a backslash doubled, a hyphen as \- (a minus, so that
 * options can be searched for and copied). */
static void roff_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

/* ".TP" and the option with its value, in bold and italics. */
static void option_head(FILE *out, const char *option, const char *metavar)
{
    fputs(".TP\n.BI \\-\\-", out);
    roff_text(out, option);
    fputs(" \" ", out);
    roff_text(out, metavar);
    fputs("\"\n", out);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s TEMPLATE OUTPUT\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "r");
    FILE *out = fopen(argv[2], "w");
    if (in == NULL || out == NULL) {
        perror(in == NULL ? argv[1] : argv[2]);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, in) != NULL) {
        if (strcmp(line, "@EXPORTER_OPTIONS@\n") == 0) {
            for (size_t i = 0; i < gcs_exporter_options_count; i++) {
                option_head(out, gcs_exporter_options[i].option, gcs_exporter_options[i].metavar);
                roff_text(out, gcs_exporter_options[i].help);
                fputs(".\n", out);
            }
            continue;
        }
        if (strcmp(line, "@SETTINGS@\n") != 0) {
            fputs(line, out);
            continue;
        }
        for (size_t i = 0; i < gcs_settings_count; i++) {
            option_head(out, gcs_settings[i].option, gcs_settings[i].metavar);
            fputs("Sets\n.BR ", out);
            roff_text(out, gcs_settings[i].variable);
            fputs (":\n", out);
            roff_text(out, gcs_settings[i].help);
            fputs(".\n", out);
        }
    }
    if (ferror(in) || fclose(out) != 0) {
        perror(argv[2]);
        return 1;
    }
    fclose(in);
    return 0;
}
