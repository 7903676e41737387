/* error.c: status texts and the error record. */
#include "m40-int.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const status_text[] = {
	[M40_OK] = N_("success"),
	[M40_E_NOMEM] = N_("out of memory"),
	[M40_E_IO] = N_("input/output error"),
	[M40_E_FORMAT] = N_("malformed file"),
	[M40_E_UNSUPPORTED] = N_("not supported"),
	[M40_E_INVALID] = N_("invalid argument"),
	[M40_E_RANGE] = N_("out of range"),
	[M40_E_NOTFOUND] = N_("not found"),
	[M40_E_NODEVICE] = N_("no usable GPU"),
	[M40_E_DEVICE] = N_("GPU error"),
	[M40_E_DEVICE_OOM] = N_("out of GPU memory"),
};

const char *
m40_strerror(m40_status code)
{
	if ((unsigned)code >= M40_ARRAY_SIZE(status_text) || status_text[code] == NULL)
		return _("unknown error");
	return _(status_text[code]);
}

m40_status
m40_error_set(m40_error *err, m40_status code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

void
m40_error_clear(m40_error *err)
{
	if (err == NULL)
		return;
	err->code = M40_OK;
	err->msg[0] = '\0';
}

const char *
m40_version(void)
{
	return PACKAGE_VERSION;
}
