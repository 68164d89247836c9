/* chartpulse: argv -> subcommand. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "chartpulse: not yet\n");
    return 1;
}
