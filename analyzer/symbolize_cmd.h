/* symbolize_cmd.h — `guard-analyze symbolize` (symbolize_cmd.c). */
#ifndef ANALYZER_SYMBOLIZE_CMD_H
#define ANALYZER_SYMBOLIZE_CMD_H

/* argv[0] is "symbolize".  Returns the exit status. */
int symbolize_cmd_run(int argc, char **argv);

#endif
