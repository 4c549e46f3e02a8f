/* SPDX-License-Identifier: MIT */
/*
 * csv.h - the CSV/text line encoder shared by the txtfile and oss writers.
 *
 * It reproduces DataX's UnstructuredStorageWriterUtil + DataXCsvWriter rules
 * exactly (contrib/doc/oss.md 4.5), with one deliberate difference: a multi-
 * character lineDelimiter (e.g. "\r\n") ends CSV lines with the whole
 * delimiter, where DataX writes only its first character.
 *
 * csv format, per field after the value -> text conversion:
 *   1. the text is trimmed of bytes <= 0x20 at both ends (Java String.trim);
 *   2. it is quoted with '"' when it contains '"', the field delimiter or a
 *      character of the line delimiter, or when it is the first field and is
 *      empty or starts with '#';
 *   3. inside quotes '"' is doubled; nothing else is escaped.
 * text format: fields joined by fieldDelimiter, no trimming, no quoting.
 * A record with no columns writes nothing.
 *
 * Value -> text (DataX Column.asString): null -> nullFormat (default the
 * literal "null", as DataX's code does); long -> decimal; double -> Java
 * BigDecimal(Double.toString(d)).toPlainString() ("1.0", "10000000000",
 * "0.00000010"; NaN, Infinity, -Infinity as Java prints them); bool ->
 * true/false; bytes -> the bytes as they are, or base64 with bytesBase64;
 * date -> dateFormat (a SimpleDateFormat pattern) or "yyyy-MM-dd HH:mm:ss".
 *
 * The result is converted from UTF-8 to `encoding` with iconv when that is
 * not UTF-8; a value that cannot be represented makes the record dirty
 * (-EILSEQ) and nothing is appended for it.
 *
 * A struct csv is used by one thread at a time (it owns an iconv handle).
 */
#ifndef DIFS_CSV_H
#define DIFS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "record.h"

enum csv_format { CSV_FMT_CSV = 0, CSV_FMT_TEXT };

/**
 * Converts an instant (seconds since the epoch, UTC) to local broken-down
 * time in the job's zone, setting *gmtoff (seconds east of UTC).  0 or a
 * negative error.  NULL in csv_config means UTC.
 */
typedef int csv_localtime_fn(void *arg, int64_t utc, struct tm *out, long *gmtoff);

/** csv_tz_localtime - a csv_localtime_fn over a `const struct tz *` (tz.h) arg. */
int	csv_tz_localtime(void *arg, int64_t utc, struct tm *out, long *gmtoff);

struct csv_config {
	enum csv_format	 format;
	const char	*field_delim;	/**< default ","; csv: exactly one character */
	const char	*line_delim;	/**< default "\n" */
	const char	*null_format;	/**< default "null" (DataX code default) */
	const char	*date_format;	/**< SimpleDateFormat pattern; default "yyyy-MM-dd HH:mm:ss" */
	const char	*encoding;	/**< iconv charset name; default "UTF-8" */
	int		 bytes_base64;	/**< write REC_BYTES as base64 */
	csv_localtime_fn *localtime;	/**< may be NULL: UTC */
	void		*localtime_arg;
};

struct csv;

/**
 * csv_new - validate cfg (copied) and build an encoder.
 * Returns 0, ENG_EINVAL (message in eb: bad delimiter, unknown charset,
 * bad date pattern) or -ENOMEM.
 */
int	csv_new(const struct csv_config *cfg, struct csv **out, struct eng_errbuf *eb);
void	csv_free(struct csv *c);

/**
 * csv_encode - append one encoded line for r to out.
 * Returns 0; -EILSEQ when a value cannot be encoded in the target charset
 * (out unchanged: a dirty record); -ENOMEM/-E2BIG from out.
 */
int	csv_encode(struct csv *c, const struct record *r, struct buf *out);

/** csv_encode_strings - append one line of plain strings (the header). */
int	csv_encode_strings(struct csv *c, const char *const *v, size_t n, struct buf *out);

/** csv_value_text - DataX's asString of v, UTF-8, appended to out. */
int	csv_value_text(const struct csv *c, const struct rec_value *v, struct buf *out);

/** csv_java_double - Java BigDecimal(Double.toString(d)).toPlainString(). */
int	csv_java_double(double d, struct buf *out);

/**
 * csv_date_format - format an instant with a SimpleDateFormat pattern.
 * Supported letters: y M d H h k K m s S a E D Z X z, 'quoted text' and ''.
 * Returns 0, ENG_EINVAL for a letter not supported, or a buf error.
 */
int	csv_date_format(const char *pattern, int64_t ms, csv_localtime_fn *lt,
	    void *lt_arg, struct buf *out);

#endif /* DIFS_CSV_H */
