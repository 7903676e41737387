/* quant.h: (being written) */
