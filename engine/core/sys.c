/* SPDX-License-Identifier: MIT */
/*
 * sys.c - mkdir -p, private directories, whole-file read, write-all
 * (sys.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "sys.h"

int
sys_mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(path);

	if (n == 0)
		return -ENOENT;
	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		if (tmp[i - 1] == '/')
			continue;	/* "a//b", "a/" */
		tmp[i] = '\0';
		if (mkdir(tmp, mode) != 0) {
			int saverr = errno;

			if (saverr != EEXIST)
				return -saverr;
			if (stat(tmp, &st) != 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

/* "uid 65534 (nobody)" */
static void
sys_uid_name(uid_t uid, char *dst, size_t dstsz)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[1024];

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp != NULL)
		snprintf(dst, dstsz, "uid %lu (%s)", (unsigned long)uid, pw.pw_name);
	else
		snprintf(dst, dstsz, "uid %lu", (unsigned long)uid);
}

int
sys_private_dir(const char *path, const char *what, char *why, size_t whysz)
{
	char owner[160], me[160];
	struct stat st;
	int rc;

	if ((rc = sys_mkdir_p(path, 0700)) != 0) {
		snprintf(why, whysz, "%s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	if (stat(path, &st) != 0) {
		rc = -errno;
		snprintf(why, whysz, "%s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "%s %s is not a directory", what, path);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		sys_uid_name(st.st_uid, owner, sizeof(owner));
		sys_uid_name(geteuid(), me, sizeof(me));
		snprintf(why, whysz, "%s %s is owned by %s, not by you (%s): its "
		    "owner could plant jobs that run as you; use a directory of "
		    "your own, or if it is yours: chown %lu %s && chmod 700 %s",
		    what, path, owner, me, (unsigned long)geteuid(), path, path);
		return -EPERM;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz, "%s %s is writable by %s (mode %04o): others "
		    "could plant jobs that run as you; fix it with chmod 700 %s",
		    what, path, (st.st_mode & S_IWOTH) != 0 ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

int
sys_read_fd(int fd, size_t max, struct buf *out)
{
	char chunk[65536];
	size_t mark = out->len, got = 0;
	ssize_t r;
	int rc = 0;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (max > 0 && got > max) {
			rc = -EFBIG;
			break;
		}
		if ((rc = buf_add(out, chunk, (size_t)r)) != 0)
			break;
	}
	if (rc != 0)
		buf_truncate(out, mark);
	return rc;
}

int
sys_read_file(const char *path, size_t max, struct buf *out)
{
	struct stat st;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (S_ISDIR(st.st_mode))
		rc = -EISDIR;
	else
		rc = sys_read_fd(fd, max, out);
	(void)close(fd);
	return rc;
}

int
sys_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

/* ---- secrets ------------------------------------------------------------ */

/* a mapping: its size first, then the bytes (so free knows what to unmap) */
#define SYS_SECRET_HDR	sizeof(size_t)

char *
sys_secret_dup(const char *s, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t psz = pg > 0 ? (size_t)pg : 4096, sz;
	char *m;

	if (len > SIZE_MAX - SYS_SECRET_HDR - 1 - psz)
		return NULL;
	sz = (SYS_SECRET_HDR + len + 1 + psz - 1) / psz * psz;
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	(void)madvise(m, sz, MADV_DONTDUMP);	/* best effort: older kernels lack it */
	memcpy(m, &sz, SYS_SECRET_HDR);
	if (s != NULL)		/* NULL: len zero bytes to fill in */
		memcpy(m + SYS_SECRET_HDR, s, len);
	m[SYS_SECRET_HDR + len] = '\0';
	return m + SYS_SECRET_HDR;
}

char *
sys_secret_strdup(const char *s)
{
	return s != NULL ? sys_secret_dup(s, strlen(s)) : NULL;
}

void
sys_secret_free(char *s)
{
	char *m;
	size_t sz;

	if (s == NULL)
		return;
	m = s - SYS_SECRET_HDR;
	memcpy(&sz, m, SYS_SECRET_HDR);
	explicit_bzero(m, sz);
	(void)munmap(m, sz);
}

int
sys_harden(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -errno;
	return 0;
}
