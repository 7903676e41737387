/*
 * gpu-buffers.h: the sizes of the CUDA backend's working buffers, kept here
 * so that the backend (cuda/) and the memory estimate (model.c, which
 * m40-inspect --vram and the engine's check before loading share) agree.
 */
#ifndef M40_GPU_BUFFERS_H
#define M40_GPU_BUFFERS_H

#include <stddef.h>

/* Weight rows dequantized to FP32 for a prompt batch's SGEMM (at most);
 * also the split sums of batched decode. */
#define M40_GPU_TILE_BYTES ((size_t)64 << 20)
/* cuBLAS's workspace, allocated at open so graph capture allocates nothing. */
#define M40_GPU_BLAS_WORK_BYTES ((size_t)32 << 20)
/* Batches up to this many tokens run attention split over the keys
 * (flash-decoding) when the context is longer than one split. */
#define M40_GPU_SPLIT_TOKENS 64
/* Keys a split. */
#define M40_GPU_SPLIT_KEYS 256
/* Completion counters ahead of the partial results (ints). */
#define M40_GPU_SPLIT_COUNTERS (M40_GPU_SPLIT_TOKENS * 256)

#endif
