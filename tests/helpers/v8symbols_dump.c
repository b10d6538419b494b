/* Prints the symbols gcstats binds (src/v8symbols.h) as JSON, for the test
 * that looks for them in node binaries:
 *   {"required":["_ZN2v8...",...],
 *    "optional":[{"name":"_ZN2v8...","up_to_v8":10},...]}   (0: every V8)
 * The heap profiler's symbols are optional entries with a "from_v8" too.
 * The names are plain identifiers, so no JSON escaping is needed. */
#include <stdio.h>

#include "v8symbols.h"

#define PRINT_NAME(slot, name) printf("%s\"%s\"", sep, name), sep = ",";
#define PRINT_OPTIONAL(slot, name, up_to_v8) \
    printf("%s{\"name\":\"%s\",\"up_to_v8\":%d}", sep, name, up_to_v8), sep = ",";

int main(void)
{
    const char *sep = "";
    printf("{\"required\":[");
    GCS_V8_REQUIRED_SYMBOLS(PRINT_NAME)
    sep = "";
    printf("],\"optional\":[");
    GCS_V8_OPTIONAL_SYMBOLS(PRINT_OPTIONAL)
#define PRINT_PROFILER(slot, name, from_v8, up_to_v8) \
    printf("%s{\"name\":\"%s\",\"from_v8\":%d,\"up_to_v8\":%d}", sep, name, from_v8, up_to_v8), sep = ",";
    GCS_V8_PROFILER_SYMBOLS(PRINT_PROFILER)
    printf("]}\n");
    return 0;
}
