/* quant-oracle-helper: m40_dequantize_row / m40_quantize_row on records
 * from stdin, for tests/quant-oracle.py.
 *
 *   quant-oracle-helper dequantize: records "TYPE N\n" + row bytes of N
 *     elements; writes N floats each.
 *   quant-oracle-helper quantize: records "TYPE N\n" + N floats; writes
 *     the row bytes each.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <m40/m40.h>

static void die(const char *msg)
{
	fprintf(stderr, "quant-oracle-helper: %s\n", msg);
	exit(1);
}

int main(int argc, char **argv)
{
	int quantize, type;
	long long n;

	if (argc != 2 || (strcmp(argv[1], "dequantize") && strcmp(argv[1], "quantize")))
		die("usage: quant-oracle-helper dequantize|quantize < records");
	quantize = strcmp(argv[1], "quantize") == 0;
	while (scanf("%d %lld", &type, &n) == 2) {
		size_t bytes = m40_type_row_bytes(type, n);
		float *f = malloc((size_t)n * sizeof *f + 1);
		void *q = malloc(bytes + 1);
		m40_status st;

		if (getchar() != '\n')
			die("bad record header");
		if (bytes == 0 || f == NULL || q == NULL)
			die("bad type or size");
		if (quantize) {
			if (fread(f, sizeof *f, (size_t)n, stdin) != (size_t)n)
				die("short input");
			st = m40_quantize_row(type, f, q, n);
			if (st != M40_OK)
				die(m40_strerror(st));
			fwrite(q, 1, bytes, stdout);
		} else {
			if (fread(q, 1, bytes, stdin) != bytes)
				die("short input");
			st = m40_dequantize_row(type, q, f, n);
			if (st != M40_OK)
				die(m40_strerror(st));
			fwrite(f, sizeof *f, (size_t)n, stdout);
		}
		free(f);
		free(q);
	}
	if (fflush(stdout) != 0)
		die("write error");
	return 0;
}
