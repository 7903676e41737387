/* m40/backend.h: which compute backends are built in, and the devices they see. */
#ifndef M40_BACKEND_H
#define M40_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <m40/error.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct m40_device_info {
	char name[256];
	int cc_major, cc_minor;   /* compute capability (0.0 for the CPU) */
	uint64_t total_mem;       /* bytes */
	uint64_t free_mem;        /* bytes */
	int multiprocessors;      /* SMs, or CPU cores */
	int driver_version;       /* CUDA's encoding: 12040 = 12.4; 0 for the CPU */
	int runtime_version;
} m40_device_info;

/* True if the named backend ("cpu", "cuda") was compiled into this library. */
bool m40_backend_available(const char *name);
/* Number of devices the backend sees (the CPU backend has one).  For cuda
 * without a usable driver or GPU: M40_E_NODEVICE with the reason. */
m40_status m40_backend_device_count(const char *name, int *count, m40_error *err);
m40_status m40_backend_device_info(const char *name, int device, m40_device_info *info, m40_error *err);

#ifdef __cplusplus
}
#endif
#endif
