/* SPDX-License-Identifier: MIT */
/*
 * fuzz_oss_xml.c - libFuzzer target for the OSS response parsers: every
 * input goes through the generic element tree (xml_parse) and each OSS
 * document parser (error, initiate, complete, list v2, list parts,
 * delete result, list uploads); everything is freed so LeakSanitizer sees
 * leaks.  Also round-trips the input through the escaping writer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oss_i.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct xml_doc *d = NULL;
	struct oss_error e;
	struct oss_list_page lp;
	struct oss_parts_page pp;
	struct oss_delete_fail *f = NULL;
	struct buf b;
	size_t nf = 0, cnt = 0, i;
	char **keys = NULL, **ids = NULL;
	char *id = NULL;
	char etag[80];

	if (xml_parse(p, size, &d) == 0) {
		const struct xml_node *r = xml_root(d);

		(void)xml_path(r, "Contents/Owner/ID");
		for (const struct xml_node *c = r->child; c != NULL; c = c->next)
			(void)xml_next(c);
		xml_free(d);
	}
	memset(&e, 0, sizeof(e));
	(void)oss_xml_error(p, size, &e);
	if (oss_xml_initiate(p, size, &id) == 0)
		free(id);
	(void)oss_xml_complete(p, size, etag, sizeof(etag));
	memset(&lp, 0, sizeof(lp));
	if (oss_xml_list(p, size, &lp) == 0)
		oss_list_page_free(&lp);
	memset(&pp, 0, sizeof(pp));
	if (oss_xml_list_parts(p, size, &pp) == 0)
		oss_parts_page_free(&pp);
	if (oss_xml_delete_result(p, size, &f, &nf) == 0)
		oss_delete_fails_free(f, nf);
	if (oss_xml_list_uploads(p, size, &cnt, &keys, &ids) == 0) {
		for (i = 0; i < cnt; i++) {
			free(keys[i]);
			free(ids[i]);
		}
		free(keys);
		free(ids);
	}
	/* writer: whatever it accepts must read back identical */
	buf_init(&b, (size_t)1 << 20);
	(void)buf_addstr(&b, "<k>");
	if (xml_escape(&b, p, size) == 0 && memchr(p, '\0', size) == NULL) {
		(void)buf_addstr(&b, "</k>");
		if (b.err == 0 && xml_parse(b.p, b.len, &d) == 0) {
			if (xml_root(d)->text_len != size ||
			    memcmp(xml_root(d)->text, p, size) != 0)
				abort();
			xml_free(d);
		}
	}
	buf_free(&b);
	return 0;
}
