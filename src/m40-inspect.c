/* m40-inspect.c: (being written) */
#include "cli.h"
int main(int argc, char **argv) { (void)argc; cli_init(argv[0]); return 1; }
