/* backend.c: the compute backends built into the library, by name, and their devices. */
#include "m40-int.h"

#include <string.h>

#include "backend-ops.h"

#ifndef HAVE_CUDA
/* Without CUDA there is no GPU backend; the engine asks and gets NULL. */
const m40_backend_ops *
m40i_backend_cuda(void)
{
	return NULL;
}
#endif

/* True if the CUDA backend is built and sees at least one device. */
static bool
cuda_usable(void)
{
	const m40_backend_ops *ops = m40i_backend_cuda();
	int n = 0;

	return ops != NULL && ops->device_count(&n, NULL) == M40_OK && n > 0;
}

/* "cpu", "cuda", or "auto" (and NULL or ""): CUDA when it is built and a
 * device is present, else the CPU.  NULL for an unknown or absent one. */
const m40_backend_ops *
m40i_backend_find(const char *name)
{
	if (name == NULL || *name == '\0' || strcmp(name, "auto") == 0)
		return cuda_usable() ? m40i_backend_cuda() : m40i_backend_cpu();
	if (strcmp(name, "cpu") == 0)
		return m40i_backend_cpu();
	if (strcmp(name, "cuda") == 0)
		return m40i_backend_cuda();
	return NULL;
}

bool
m40_backend_available(const char *name)
{
	if (name == NULL)
		return false;
	if (strcmp(name, "auto") == 0)
		return true;
	return (strcmp(name, "cpu") == 0 || strcmp(name, "cuda") == 0) && m40i_backend_find(name) != NULL;
}

static m40_status
lookup(const char *name, const m40_backend_ops **ops, m40_error *err)
{
	if (name != NULL && strcmp(name, "cuda") == 0 && m40i_backend_cuda() == NULL)
		return m40_error_set(err, M40_E_NODEVICE,
			_("the CUDA backend is not built into this library (configure --with-cuda)"));
	*ops = m40i_backend_find(name);
	if (*ops == NULL)
		return m40_error_set(err, M40_E_INVALID, _("unknown backend '%s' (cpu, cuda or auto)"),
			name);
	return M40_OK;
}

m40_status
m40_backend_device_count(const char *name, int *count, m40_error *err)
{
	const m40_backend_ops *ops;
	m40_status s;

	*count = 0;
	if ((s = lookup(name, &ops, err)) != M40_OK)
		return s;
	return ops->device_count(count, err);
}

m40_status
m40_backend_device_info(const char *name, int device, m40_device_info *info, m40_error *err)
{
	const m40_backend_ops *ops;
	m40_status s;
	int n = 0;

	memset(info, 0, sizeof *info);
	if ((s = lookup(name, &ops, err)) != M40_OK)
		return s;
	if ((s = ops->device_count(&n, err)) != M40_OK)
		return s;
	if (device < 0 || device >= n)
		return m40_error_set(err, M40_E_NOTFOUND, _("no %s device %d (there are %d)"), ops->name,
			device, n);
	return ops->device_info(device, info, err);
}
