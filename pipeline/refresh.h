/* `chartpulse refresh`: rebuild the warehouse summaries from the chart positions and
 * invalidate every cached API response. */
#ifndef CP_REFRESH_H
#define CP_REFRESH_H

#include "core/config.h"

/* Tells every server that the data changed (the cache generation); a Redis failure is
 * reported as a warning on stderr, since loaded data must not be rolled back for it. */
void cp_refresh_announce(const struct cp_config *cfg, const char *command);

/* The subcommand. */
int cp_refresh_main(int argc, char **argv);

#endif
