/* m40/error.h: status codes and the error record every fallible call fills. */
#ifndef M40_ERROR_H
#define M40_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Append-only: never renumber. */
typedef enum m40_status {
	M40_OK = 0,
	M40_E_NOMEM,       /* host memory allocation failed */
	M40_E_IO,          /* open/read/write/rename failed (errno in the message) */
	M40_E_FORMAT,      /* malformed input file or data */
	M40_E_UNSUPPORTED, /* valid but not supported (architecture, tensor type) */
	M40_E_INVALID,     /* bad argument or bad input from the user */
	M40_E_RANGE,       /* too long or too large (context, batch) */
	M40_E_NOTFOUND,    /* key, tensor, model or device missing */
	M40_E_NODEVICE,    /* no usable GPU, or backend not built in */
	M40_E_DEVICE,      /* a device call or kernel launch failed */
	M40_E_DEVICE_OOM,  /* device memory exhausted */
	M40_E_LAST
} m40_status;

#define M40_ERROR_MSG_SIZE 512

/*
 * Callers own one of these (usually on the stack) and pass it to fallible
 * calls; on failure the library stores the code and a one-line message
 * (already translated, no trailing newline).  A NULL record is allowed.
 */
typedef struct m40_error {
	m40_status code;
	char msg[M40_ERROR_MSG_SIZE];
} m40_error;

/* Static, translated text for a status code. */
const char *m40_strerror(m40_status code);

/* Set err (if not NULL) and return code; printf-style message. */
m40_status m40_error_set(m40_error *err, m40_status code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* Clear a record to M40_OK and an empty message. */
void m40_error_clear(m40_error *err);

#ifdef __cplusplus
}
#endif
#endif
