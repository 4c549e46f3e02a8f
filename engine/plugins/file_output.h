/* SPDX-License-Identifier: MIT */
/*
 * file_output.h - the option block the txtfile and oss writers share
 * (DataX's unstructured-storage writer keys, validated by conf_plugin.c's
 * check_file_output): writeMode, fileFormat, fieldDelimiter,
 * lineDelimiter, encoding, nullFormat, dateFormat, header, suffix and
 * compress, parsed once into a struct file_output with one set of rules
 * and defaults for both writers:
 *   writeMode   required; blanks around it are ignored (as the validator
 *               and DataX): truncate | append | nonConflict
 *   fileFormat  csv | text, default text (DataX)
 *   fieldDelimiter, lineDelimiter, encoding, nullFormat, dateFormat
 *               as given, or csv.h's defaults ("," "\n" UTF-8 "null"
 *               "yyyy-MM-dd HH:mm:ss"); checked by building an encoder
 *   header      the strings of the array, the first line of every output
 *   suffix      blanks around it ignored; "" or ".ext" ('.' added); no '/'
 *               or control character (name.h: it ends a file name or key)
 *   compress    refused unless absent or blank (not supported)
 */
#ifndef DIFS_FILE_OUTPUT_H
#define DIFS_FILE_OUTPUT_H

#include <stddef.h>

#include "csv.h"
#include "err.h"
#include "json.h"
#include "plugin.h"

enum file_mode { FILE_MODE_TRUNCATE = 0, FILE_MODE_APPEND, FILE_MODE_NONCONFLICT };

struct file_output {
	enum file_mode		 mode;
	char			*suffix;	/**< "" or ".ext" */
	struct csv_config	 csv;		/**< format, delimiters, ..., the job's zone */
	char			*strs[5];	/**< owned copies behind csv */
	char		       **header;	/**< nheader strings, or NULL */
	size_t			 nheader;
};

/**
 * file_output_parse - fill fo (zeroed first) from the writer parameter
 * param; dates are written in env->tz (UTC when NULL).  who names the
 * writer in messages ("oss writer").  Returns 0; ENG_EINVAL with the
 * message in eb; -ENOMEM.  On failure fo holds nothing to free.
 */
int	file_output_parse(const struct plugin_env *env, const struct json *param,
	    const char *who, struct file_output *fo, struct eng_errbuf *eb)
	    __attribute__((warn_unused_result));
/** Free what fo holds (a zeroed fo too) and zero it. */
void	file_output_free(struct file_output *fo);

#endif /* DIFS_FILE_OUTPUT_H */
