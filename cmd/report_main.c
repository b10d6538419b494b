/* gcstats-report: `gcstats report` on its own, until the gcstats command
 * takes it in. */
#include "report.h"

int main(int argc, char **argv)
{
    return gcs_cmd_report(argc, argv);
}
