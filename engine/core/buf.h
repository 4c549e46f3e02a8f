/* SPDX-License-Identifier: MIT */
/*
 * buf.h - the one growable byte buffer of difs (in the spirit of curl's dynbuf
 * and git's strbuf).
 *
 * Invariants after buf_init():
 *   - p is never NULL and p[len] == '\0' (binary data may contain NULs too);
 *   - len < cap <= max + 1;  max is the per-use limit given to buf_init;
 *   - on failure (-ENOMEM, or -E2BIG when max would be exceeded) the buffer
 *     frees its memory, becomes empty and "sticky failed": every later add
 *     returns the same error until buf_reset() or buf_free();
 *   - buf_take() is the only way to extract the memory.
 * Not thread-safe: a buf belongs to one owner.
 */
#ifndef DIFS_BUF_H
#define DIFS_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*p;	/**< contents, NUL-terminated, never NULL after init */
	size_t	 len;	/**< bytes used, excluding the terminator */
	size_t	 cap;	/**< bytes allocated (0 while p points at the static "") */
	size_t	 max;	/**< largest allowed len */
	int	 err;	/**< sticky error: 0, -ENOMEM or -E2BIG */
};

#define BUF_MAX_SMALL	((size_t)64 << 10)	/**< names, headers, messages */
#define BUF_MAX_DOC	((size_t)16 << 20)	/**< JSON/XML documents, logs views */
#define BUF_MAX_BODY	((size_t)1 << 30)	/**< HTTP bodies, parts */

void	 buf_init(struct buf *b, size_t max);
void	 buf_free(struct buf *b);
/** Empty the buffer and clear a sticky error; keeps the allocation. */
void	 buf_reset(struct buf *b);
/** Ensure room for n more bytes. 0, -ENOMEM or -E2BIG. */
int	 buf_reserve(struct buf *b, size_t n) __attribute__((warn_unused_result));
int	 buf_add(struct buf *b, const void *p, size_t n);
int	 buf_addstr(struct buf *b, const char *s);
int	 buf_addc(struct buf *b, char c);
int	 buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/** Shorten to n bytes (n <= len). */
void	 buf_truncate(struct buf *b, size_t n);
/**
 * buf_take - hand the memory to the caller (free() it), leaving b empty.
 * Returns NULL on a sticky error or when allocation fails; *lenp gets len.
 */
char	*buf_take(struct buf *b, size_t *lenp);

#endif /* DIFS_BUF_H */
