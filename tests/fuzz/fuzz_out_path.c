/* SPDX-License-Identifier: MIT */
/*
 * fuzz_out_path.c - the construction of output names (core/name.c): the
 * first byte picks the field kind, the rest is the text.  Whatever the
 * input, an accepted object key (name_key_normalise) has no "//", does not
 * start with '/', holds no "." or ".." segment and no control byte, and
 * normalising it again gives it back; an accepted parameter value for a
 * file-name field holds no '/' and no ".."; an accepted value for a path
 * or key holds no "." or ".." segment; a definition name accepted by
 * name_def_ok is printable ASCII without '/'.  A violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const char *k)
{
	size_t i, n = strlen(k), seg = 0;

	if (n == 0 || k[0] == '/' || strstr(k, "//") != NULL)
		abort();
	for (i = 0; i <= n; i++) {
		if (i < n && ((unsigned char)k[i] < 0x20 || k[i] == 0x7f))
			abort();
		if (i == n || k[i] == '/') {
			if ((i - seg == 1 && k[seg] == '.') ||
			    (i - seg == 2 && k[seg] == '.' && k[seg + 1] == '.'))
				abort();
			seg = i + 1;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum name_field kinds[] = { NAME_F_COMPONENT, NAME_F_SUFFIX, NAME_F_PATH,
	    NAME_F_KEY };
	struct eng_errbuf eb;
	enum name_field kind;
	char *s, *k = NULL, *k2 = NULL;
	size_t i, n;

	if (size < 1 || size > 4096)
		return 0;
	kind = kinds[data[0] & 3];
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';

	if (name_key_normalise("fuzz", "object", s, &k, &eb) == 0) {
		check_key(k);
		if (name_key_normalise("fuzz", "object", k, &k2, &eb) != 0 || strcmp(k, k2) != 0)
			abort();	/* normalising is idempotent */
	}
	if (name_param_check("p", "field", kind, (const char *)data + 1, n, &eb) == 0) {
		for (i = 0; i < n; i++)
			if (data[1 + i] < 0x20 || data[1 + i] == 0x7f)
				abort();
		if ((kind == NAME_F_COMPONENT || kind == NAME_F_SUFFIX) &&
		    (memchr(data + 1, '/', n) != NULL || strstr(s, "..") != NULL))
			abort();
	} else if (strlen(eb.msg) == 0 || strstr(eb.msg, "${p}") == NULL)
		abort();	/* a refusal names the parameter */
	if (name_field_check("fuzz", "field", kind, s, &eb) == 0 &&
	    (kind == NAME_F_COMPONENT || kind == NAME_F_SUFFIX) && strchr(s, '/') != NULL)
		abort();
	if (name_def_ok(s, strlen(s)))
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] == '/' || (unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
			    s[0] == '.')
				abort();
	free(k);
	free(k2);
	free(s);
	return 0;
}
