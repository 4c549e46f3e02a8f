/* SPDX-License-Identifier: MIT */
/*
 * xml.h - the one XML module of difs (the only user of expat).
 *
 * Reading: xml_parse() turns a (buf, len) document into a small read-only
 * element tree.  Only what OSS documents need is kept: element names (no
 * namespace processing), and for each element the character data directly
 * inside it (concatenated, entities resolved, NUL-terminated).  Attributes,
 * comments and processing instructions are ignored.  A DOCTYPE is refused
 * (OSS never sends one; refusing it removes every entity-expansion attack).
 * Depth, node count and document size are bounded.
 *
 * Writing: xml_escape()/xml_elem()/xml_open()/xml_close() append to a
 * struct buf, escaping text so that it reads back byte-identical.
 *
 * Thread-safety: a struct xml_doc is immutable after xml_parse() and may be
 * read from any thread; separate calls share nothing.
 */
#ifndef DIFS_XML_H
#define DIFS_XML_H

#include <stddef.h>

#include "buf.h"

#define XML_MAX_DOC	((size_t)16 << 20)	/**< largest accepted document */
#define XML_MAX_DEPTH	32			/**< deepest element nesting */
#define XML_MAX_NODES	200000			/**< elements per document */

/** One element.  All pointers are owned by the xml_doc they came from. */
struct xml_node {
	const char		*name;		/**< element name as written */
	const char		*text;		/**< direct character data, "" if none */
	size_t			 text_len;	/**< bytes in text (may contain NUL) */
	const struct xml_node	*parent;	/**< NULL for the root */
	const struct xml_node	*child;		/**< first child element */
	const struct xml_node	*next;		/**< next sibling element */
};

struct xml_doc;

/**
 * xml_parse - parse a complete document.
 * @buf, @len: the document (need not be NUL-terminated); len <= XML_MAX_DOC.
 * @out: set to the parsed document on success (free with xml_free()).
 * Returns 0; -EBADMSG when the document is not well-formed XML, has a
 * DOCTYPE, or exceeds XML_MAX_DEPTH/XML_MAX_NODES; -E2BIG when len is too
 * large; -EINVAL for bad arguments; -ENOMEM.
 */
int	xml_parse(const char *buf, size_t len, struct xml_doc **out)
    __attribute__((warn_unused_result));
void	xml_free(struct xml_doc *doc);

/** The root element; never NULL for a parsed document.  Lives as doc. */
const struct xml_node *xml_root(const struct xml_doc *doc);

/**
 * xml_child - first child element of n called name (exact, case-sensitive).
 * Returns NULL when n is NULL or there is none.
 */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/** xml_next - next sibling of n with the same name as n, or NULL. */
const struct xml_node *xml_next(const struct xml_node *n);
/**
 * xml_text - text of the first child of n called name; NULL when n is NULL
 * or has no such child (an empty element gives "").
 */
const char *xml_text(const struct xml_node *n, const char *name);
/**
 * xml_path - follow a '/'-separated path of child names from n
 * ("Contents/Owner/ID"); NULL if any step is missing.
 */
const struct xml_node *xml_path(const struct xml_node *n, const char *path);

/**
 * xml_escape - append s[0..n) to b as XML character data (element text, not
 * attribute values): & < > become entities and CR becomes "&#13;" (a parser
 * would otherwise turn it into LF), so a parser gives the bytes back
 * unchanged.  Quotes stay as they are (OSS bodies carry <ETag>"..."</ETag>).  Returns 0; -EINVAL when s is not
 * valid UTF-8 or holds a character XML 1.0 cannot carry (other C0 controls,
 * U+FFFE/U+FFFF); the buffer's error (-ENOMEM/-E2BIG) otherwise.
 * On -EINVAL nothing has been appended.
 */
int	xml_escape(struct buf *b, const char *s, size_t n)
    __attribute__((warn_unused_result));
/** xml_open / xml_close - append "<name>" / "</name>" (name is trusted). */
int	xml_open(struct buf *b, const char *name);
int	xml_close(struct buf *b, const char *name);
/** xml_elem - append "<name>" escaped(text) "</name>"; errors as xml_escape. */
int	xml_elem(struct buf *b, const char *name, const char *text)
    __attribute__((warn_unused_result));

#endif /* DIFS_XML_H */
