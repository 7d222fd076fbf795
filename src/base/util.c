/* util.c — small system helpers: secret wiping, constant-time compare,
 * whole-file reads, atomic file writes, mkdir -p, secure random bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctng/base.h"

void ctng_wipe(void *p, size_t n)
{
	/* A volatile pointer keeps the compiler from dropping the stores as dead. */
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

int ctng_ct_memcmp(const void *a, const void *b, size_t n)
{
	/* Accumulate differences without branching on them: time depends on n only. */
	const uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

int ctng_read_file(const char *path, size_t max, uint8_t **out, size_t *len, ctng_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ctng_err_set(err, CTNG_EIO, "cannot open %s: %s", path, strerror(errno));
	ctng_buf b = {0};
	uint8_t chunk[8192];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > max) {
			rc = ctng_err_set(err, CTNG_ERANGE, "%s is larger than %zu bytes", path,
			                  max);
			break;
		}
		if (ctng_buf_append(&b, chunk, n)) {
			rc = ctng_err_set(err, CTNG_ENOMEM, "out of memory reading %s", path);
			break;
		}
	}
	if (!rc && ferror(f))
		rc = ctng_err_set(err, CTNG_EIO, "cannot read %s", path);
	fclose(f);
	if (rc) {
		ctng_buf_free(&b);
		return rc;
	}
	*out = ctng_buf_detach(&b, len);
	return 0;
}

int ctng_write_file_atomic(const char *path, const void *data, size_t len, int mode, ctng_err *err)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	if (!tmp)
		return ctng_err_set(err, CTNG_ENOMEM, "out of memory");
	snprintf(tmp, plen + 16, "%s.tmp%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		int rc = ctng_err_set(err, CTNG_EIO, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	const uint8_t *p = data;
	size_t left = len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			free(tmp);
			return ctng_err_set(err, CTNG_EIO, "cannot write %s", path);
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		free(tmp);
		return ctng_err_set(err, CTNG_EIO, "cannot commit %s: %s", path, strerror(errno));
	}
	free(tmp);
	return 0;
}

int ctng_mkdir_p(const char *path, int mode, ctng_err *err)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return ctng_err_set(err, CTNG_ERANGE, "path too long");
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
				return ctng_err_set(err, CTNG_EIO, "cannot create %s: %s", buf,
				                    strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int (*g_random_source)(void *out, size_t n);

void ctng_random_set_source(int (*fn)(void *out, size_t n))
{
	g_random_source = fn;
}

int ctng_random(void *out, size_t n)
{
	if (g_random_source)
		return g_random_source(out, n);
	uint8_t *p = out;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return CTNG_EIO;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
