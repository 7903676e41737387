#!/bin/sh
# quant-oracle.sh: m40_dequantize_row on every tensor of the shared models
# (blocks made by llama.cpp's own quantizer, 13 formats) bit for bit against
# the gguf Python package, and m40_quantize_row byte for byte.
. "$top_srcdir/tests/init.sh"
need_shared
command -v python3 >/dev/null 2>&1 || skip_ "no python3"
if ! python3 -c 'import gguf, numpy' 2>/dev/null; then
	python3 -m pip install -q --disable-pip-version-check --target "$tmp/py" \
		gguf numpy >"$tmp/pip.log" 2>&1 || skip_ "cannot pip install gguf numpy"
	PYTHONPATH=$tmp/py${PYTHONPATH:+:$PYTHONPATH}
	export PYTHONPATH
	python3 -c 'import gguf, numpy' 2>/dev/null || skip_ "the gguf package does not load"
fi
python3 "$top_srcdir/tests/quant-oracle.py" "$top_builddir/tests/quant-oracle-helper" \
	"$M40_SHARED"/models/synthetic/st-*.gguf \
	"$M40_SHARED/models/stories260K.gguf" "$M40_SHARED/models/llama-2-tiny-random.gguf"
