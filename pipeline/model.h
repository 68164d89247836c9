/* `chartpulse model backtest`: the forecast models of analytics/forecast.h compared by a
 * rolling-origin backtest over every track of one chart series, printed as a table. */
#ifndef CP_MODEL_H
#define CP_MODEL_H

/* The subcommand (argv[0] is "model"). */
int cp_model_main(int argc, char **argv);

#endif
