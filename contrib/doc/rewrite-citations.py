#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# rewrite-citations.py - one-off: point the tree's citations at contrib/doc/
# and its file paths at the files' current homes.
#
# Usage: contrib/doc/rewrite-citations.py [--write] [--base REV] [ROOT]
#   ROOT    the repository root (default: the current directory)
#   --write change the files; without it nothing is written (dry run) and
#           the same report is printed
#   --base  the commit before the folders moved (default 7db3b5b): renames
#           from it to HEAD (followed through history) give the path map
#
# Scope: *.c *.h *.sh *.js *.py *.proto meson.build *.md, except
# contrib/doc/, node_modules/ and .git/.  Other tracked text files are only
# searched and reported.
#
# 1. Citations (anywhere but #include lines):
#      TABLESTORE.md N, research TABLESTORE.md, research/TABLESTORE.md,
#      shared/research/TABLESTORE.md, ../shared/research/TABLESTORE.md
#        -> contrib/doc/tablestore.md N        (same for OSS, SCHEDULING)
#      DESIGN.md, shared/DESIGN.md -> contrib/doc/design.md
#      STYLE.md,  shared/STYLE.md  -> contrib/doc/style.md
#    "§N" after such a name loses its "§".  A bare "research N",
#    "research §N", "research section N" or "§N" takes the document cited
#    nearest before it in the same file (else the nearest after it); one
#    with no document in its file is reported, not changed.
# 2. Stale paths in comments: a path (or bare file name, or a glob such as
#    engine/cli*.c) that no longer exists and that the rename map resolves
#    to one current path is rewritten (bare names stay bare when the new
#    file is in the citing file's folder).  The rest are listed.
# 3. "issue N" / "issue #N" mentions are listed with file:line (never
#    changed), as are lines the rewrite made longer than 80 columns.
#
# Idempotent: a second run finds nothing to change.  Exit 0; 2 on a usage
# or git error.
import argparse
import fnmatch
import os
import re
import subprocess
import sys

DOCS = {"TABLESTORE": "tablestore", "OSS": "oss", "SCHEDULING": "scheduling",
        "DESIGN": "design", "STYLE": "style"}
SCOPE_EXT = (".c", ".h", ".sh", ".js", ".py", ".proto", ".md")
C_LIKE = (".c", ".h", ".js", ".proto")
HASH_LIKE = (".sh", ".py", "meson.build")
SKIP_DIRS = ("contrib/doc/", "node_modules/", ".git/")
REPO_TOPS = ("engine/", "fs/", "cache/", "contrib/", "tests/")

# a comment leader at the start of a continuation line
LEAD = r"[ \t]*\n[ \t]*(?:\*|//|#)?[ \t]*"
NUM = r"\d+(?:\.\d+)*(?:-\d+(?:\.\d+)*)?"
NAMED = re.compile(
    r"(?P<pre>(?:research(?:[ \t]+|" + LEAD + r")|(?:\.\./)*(?:shared/)?research/|(?:\.\./)*shared/))?"
    r"(?P<doc>TABLESTORE|OSS|SCHEDULING|DESIGN|STYLE)\.md"
    r"(?P<sect>[ \t]+§[ \t]*" + NUM + r")?")
BARE_RESEARCH = re.compile(
    r"\bresearch(?P<sp>[ \t]+|" + LEAD + r")(?P<kind>§[ \t]*|section[ \t]+)?(?P<num>" + NUM + r")")
BARE_SECT = re.compile(r"(?<![\w/.])§[ \t]*(?P<num>" + NUM + r")")
SECT_TAIL = re.compile(r"(?P<sep>\s*(?:,|/|and|or|-)\s*)§[ \t]*(?P<num>" + NUM + r")")
ISSUE = re.compile(r"\bissues?(?:[ \t]+|" + LEAD + r")#?\d+", re.I)
PATHLIKE = re.compile(r"(?<![\w./<-])((?:\.\./)*[A-Za-z0-9_.*-]+(?:/[A-Za-z0-9_.*-]+)*"
                      r"\.(?:c|h|sh|js|py|proto|md|build))(?![\w/])")


def git(root, *args):
    r = subprocess.run(["git", "-C", root] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("rewrite-citations: git %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def rename_map(root, base):
    """old path -> current path, following chains of renames since base."""
    m = {}
    log = git(root, "log", "--reverse", "-M", "--diff-filter=R", "--name-status",
              "--format=", base + "..HEAD")
    for line in log.splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[0].startswith("R"):
            old, new = f[1], f[2]
            for k, v in list(m.items()):
                if v == old:
                    m[k] = new
            m[old] = new
    # uncommitted renames in the work tree, if any
    for line in git(root, "diff", "-M", "--name-status", "HEAD").splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[0].startswith("R"):
            for k, v in list(m.items()):
                if v == f[1]:
                    m[k] = f[2]
            m[f[1]] = f[2]
    return {k: v for k, v in m.items() if os.path.exists(os.path.join(root, v))}


def comment_spans(text, path):
    """(start, end, kind) spans: kind 'c' comment, 's' string literal."""
    spans = []
    if path.endswith(".md"):
        return [(0, len(text), "c")]
    if path.endswith(C_LIKE):
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if text.startswith("/*", i):
                j = text.find("*/", i + 2)
                j = n if j < 0 else j + 2
                spans.append((i, j, "c"))
                i = j
            elif text.startswith("//", i):
                j = text.find("\n", i)
                j = n if j < 0 else j
                spans.append((i, j, "c"))
                i = j
            elif c in "\"'`":
                j = i + 1
                while j < n and text[j] != c and not (text[j] == "\n" and c != "`"):
                    j += 2 if text[j] == "\\" else 1
                spans.append((i, min(j + 1, n), "s"))
                i = j + 1
            else:
                i += 1
        return spans
    # shell, python, meson: '#' to end of line when it starts a word
    for m in re.finditer(r"(?m)(?:^|(?<=\s))#[^\n]*", text):
        spans.append((m.start(), m.end(), "c"))
    return spans


def in_spans(pos, spans, kinds):
    for s, e, k in spans:
        if s <= pos < e:
            return k in kinds
    return False


def include_line(text, pos):
    ls = text.rfind("\n", 0, pos) + 1
    return re.match(r"[ \t]*#[ \t]*include\b", text[ls:pos + 1]) is not None


def line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def rewrite_citations(text, path, notes):
    """Returns the new text and the number of citations changed."""
    spans = comment_spans(text, path)
    ok_kinds = ("c", "s")
    if path.endswith(HASH_LIKE) or path.endswith(".md"):
        allowed = lambda p: True
    else:
        allowed = lambda p: in_spans(p, spans, ok_kinds) and not include_line(text, p)
    named = [(m.start("doc"), DOCS[m.group("doc")]) for m in NAMED.finditer(text)]

    def doc_near(pos):
        before = [d for p, d in named if p < pos]
        if before:
            return before[-1]
        after = [d for p, d in named if p > pos]
        return after[0] if after else None

    edits = []		# (start, end, replacement)

    def lead_fix(m, group):
        # "(research\n * NAME" -> "\n * (contrib/doc/..": keep the line break,
        # move an opening parenthesis right before "research" along, and drop
        # the spaces it leaves at the end of the previous line.
        pre = m.group(group) or ""
        start = m.start()
        if "\n" not in pre:
            return start, ""
        paren = ""
        if start > 0 and text[start - 1] == "(":
            paren = "("
            start -= 1
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        return start, pre[pre.index("\n"):] + paren

    for m in NAMED.finditer(text):
        if not allowed(m.start("doc")):
            continue
        start, head = lead_fix(m, "pre")
        rep = head + "contrib/doc/%s.md" % DOCS[m.group("doc")]
        if m.group("sect"):
            rep += " " + re.sub(r"^[ \t]+§[ \t]*", "", m.group("sect"))
        end = m.end()
        # "§A, §B" lists after the first section
        while True:
            t = SECT_TAIL.match(text, end)
            if not t:
                break
            rep += text[end:t.start("sep") + len(t.group("sep"))] + t.group("num")
            end = t.end()
        edits.append((start, end, rep))
    for m in BARE_RESEARCH.finditer(text):
        if not allowed(m.start()) or any(s <= m.start() < e for s, e, _ in edits):
            continue
        d = doc_near(m.start())
        if d is None:
            notes["unresolved"].append("%s:%d: %s" % (path, line_of(text, m.start()),
                                                       m.group(0).replace("\n", " ")))
            continue
        start, head = lead_fix(m, "sp")
        kind = (m.group("kind") or "").strip()
        word = "section " if kind == "section" else ""
        edits.append((start, m.end(), head + "contrib/doc/%s.md %s%s" % (d, word, m.group("num"))))
    for m in BARE_SECT.finditer(text):
        if not allowed(m.start()) or any(s <= m.start() < e for s, e, _ in edits):
            continue
        d = doc_near(m.start())
        if d is None:
            notes["unresolved"].append("%s:%d: %s" % (path, line_of(text, m.start()), m.group(0)))
            continue
        edits.append((m.start(), m.end(), "contrib/doc/%s.md %s" % (d, m.group("num"))))
    return apply(text, edits), len(edits)


def apply(text, edits):
    edits.sort()
    out, at = [], 0
    for s, e, r in edits:
        if s < at:
            continue
        out.append(text[at:s])
        out.append(r)
        at = e
    out.append(text[at:])
    return "".join(out)


class Tree:
    def __init__(self, root, renames, base):
        self.root = root
        self.renames = renames
        self.files = set(git(root, "ls-files").splitlines())
        self.files |= {v for v in renames.values()}
        self.basenames = {}
        for f in self.files:
            self.basenames.setdefault(os.path.basename(f), []).append(f)
        self.old_files = set(git(root, "ls-tree", "-r", "--name-only", base).splitlines())
        self.old_base = {}
        for old, new in renames.items():
            self.old_base.setdefault(os.path.basename(old), set()).add(new)

    def was_glob(self, p):
        """p matched files of the base tree (by path, or by name if bare)."""
        if "/" in p:
            return any(fnmatch.fnmatch(f, p) for f in self.old_files)
        return any(fnmatch.fnmatch(os.path.basename(f), p) for f in self.old_files)

    def exists(self, p, citing):
        if os.path.exists(os.path.join(self.root, p)):
            return True
        if os.path.exists(os.path.join(self.root, os.path.dirname(citing), p)):
            return True
        if "/" not in p and p in self.basenames:
            return True
        if "*" in p:
            if "/" in p:
                return any(fnmatch.fnmatch(f, p) for f in self.files)
            return any(fnmatch.fnmatch(os.path.basename(f), p) for f in self.files)
        return False

    def resolve(self, p, citing):
        """The current path for a stale p, or None."""
        here = os.path.dirname(citing)
        if "*" in p:
            # every file the glob matched moved to one folder, and their
            # names kept what the glob's "*" stands for (the literal part
            # before it may change: engine*.c -> view*.c)
            bare = "/" not in p
            olds = [f for f in self.old_files
                    if fnmatch.fnmatch(os.path.basename(f) if bare else f, p)]
            if not olds or any(o not in self.renames for o in olds):
                return None
            lit = os.path.basename(p).split("*")[0]
            heads = set()
            for o in olds:
                ob, nb = os.path.basename(o), os.path.basename(self.renames[o])
                tail = ob[len(lit):]
                if not ob.startswith(lit) or not nb.endswith(tail):
                    return None
                heads.add(nb[:len(nb) - len(tail)])
            dirs = {os.path.dirname(self.renames[o]) for o in olds}
            if len(dirs) != 1 or len(heads) != 1:
                return None
            d, newglob = dirs.pop(), heads.pop() + os.path.basename(p)[len(lit):]
            return newglob if bare and d == here else d + "/" + newglob
        if p in self.renames:
            return self.renames[p]
        if "/" not in p:
            news = self.old_base.get(p, set())
            if len(news) == 1:
                n = news.pop()
                self.old_base[p] = {n}
                return os.path.basename(n) if os.path.dirname(n) == here else n
        # a path relative to the citing file's folder
        rel = os.path.normpath(os.path.join(here, p))
        if rel in self.renames:
            return self.renames[rel]
        return None


def rewrite_paths(text, path, tree, notes):
    spans = comment_spans(text, path)
    edits = []
    for m in PATHLIKE.finditer(text):
        p = m.group(1)
        if p.startswith("contrib/doc/") or tree.exists(p, path):
            continue
        incomment = in_spans(m.start(), spans, ("c",))
        known = (p in tree.renames or "/" not in p and p in tree.old_base or
                 p.startswith(REPO_TOPS) or "*" in p and tree.was_glob(p))
        if not known:
            continue
        new = tree.resolve(p, path) if incomment else None
        where = "%s:%d" % (path, line_of(text, m.start()))
        if new is None:
            notes["stale"].append("%s: %s%s" % (where, p, "" if incomment else " (not in a comment)"))
            continue
        edits.append((m.start(1), m.end(1), new))
        notes["mapped"].append("%s: %s -> %s" % (where, p, new))
    return apply(text, edits), len(edits)


LIMIT = 80
LEADER = re.compile(r"^([ \t]*)(/\*\*?|\*(?!/)|//|#)( ?)")
MARKER = re.compile(r"^(?:[-*] |\d+[.)] )")


def width(line):
    return len(line.expandtabs(8))


def leaders(line):
    """(text before the words, continuation leader) of a comment line."""
    m = LEADER.match(line)
    if not m:
        return None
    ind, tok, sp = m.groups()
    cont = ind + (" * " if tok.startswith("/*") else tok + " ")
    if tok.startswith("/*"):
        cont = ind + " * "
    return m.end(), cont


NBSP = "\x00"
CITE_NAME = re.compile(r"^\(?contrib/doc/\w+\.md$")
CITE_NUM = re.compile(r"^\d+(?:\.\d+)*(?:-\d+(?:\.\d+)*)?(?:/\d+(?:\.\d+)*)*[),.:;]*$")


def glue(words):
    """Keep "contrib/doc/x.md 1.2" (and "..., 3" / "and 3" after it) on one line."""
    out = []
    i = 0
    while i < len(words):
        w = words[i]
        if CITE_NAME.match(w):
            j = i + 1
            if j < len(words) and words[j] == "section" and j + 1 < len(words):
                w += NBSP + words[j]
                j += 1
            while j < len(words) and CITE_NUM.match(words[j]):
                w += NBSP + words[j]
                j += 1
                if (j + 1 < len(words) and words[j] in ("and", "or")
                        and CITE_NUM.match(words[j + 1])):
                    w += NBSP + words[j]
                    j += 1
            i = j
        else:
            i += 1
        out.append(w)
    return out


def rewrap(lines, todo, path, notes):
    """Fit the lines at indices todo into LIMIT columns by moving their last
    words to the next line of the same comment paragraph (or a new line);
    dash banners lose dashes.  Lines it cannot fix are reported."""
    todo = sorted(todo)
    i = 0
    while todo:
        i = todo.pop(0)
        line = lines[i]
        if width(line) <= LIMIT:
            continue
        b = re.match(r"^(.*?\S) (-{3,})((?: \*/)?)$", line)
        if b and "----" in line[:12]:
            over = width(line) - LIMIT
            if len(b.group(2)) - over >= 3:
                lines[i] = b.group(1) + " " + b.group(2)[:-over] + b.group(3)
                continue
        lp = leaders(line)
        body = line[lp[0]:] if lp else ""
        if lp is None or re.search(r"\S {3,}\S", body) or '"' in body and path.endswith(".sh"):
            notes["long"].append("%s:%d: %d columns" % (path, i + 1, width(line)))
            continue
        start, cont = lp
        ind = re.match(r"[ \t]*", body).group(0)
        mk = MARKER.match(body[len(ind):])
        cind = ind + (" " * len(mk.group(0)) if mk else "")
        words = glue(body[len(ind) + (len(mk.group(0)) if mk else 0):].split(" "))
        head = line[:start] + ind + (mk.group(0) if mk else "")
        carry = []
        while width(head + " ".join(words)) > LIMIT and len(words) > 1:
            w = words.pop()
            if w == "*/" and len(words) > 1:
                w = words.pop() + " " + w
            while words and words[-1] == "":
                words.pop()
                w = " " + w		# keep a two-space sentence gap
            carry.insert(0, w)
        if not carry:
            notes["long"].append("%s:%d: %d columns" % (path, i + 1, width(line)))
            continue
        lines[i] = (head + " ".join(words)).rstrip().replace(NBSP, " ")
        carry = [w.replace(NBSP, " ") for w in carry]
        moved = " ".join(carry).strip()
        ends = line.rstrip().endswith("*/")
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        cont_ok = False
        if nxt is not None and not ends and nxt.startswith(cont) and width(cont) > 0:
            rest = nxt[len(cont):]
            if (rest.startswith(cind) and rest[len(cind):len(cind) + 1] not in ("", " ", "\t")
                    and not rest.lstrip().startswith("*/")
                    and not (cind == ind and MARKER.match(rest[len(cind):]))
                    and not re.search(r"\S {3,}\S", rest)):
                cont_ok = True
        if cont_ok:
            gap = "  " if moved.endswith(".") else " "
            lines[i + 1] = cont + cind + moved + gap + nxt[len(cont) + len(cind):]
        else:
            lines.insert(i + 1, cont + cind + moved)
            todo = [t + 1 if t > i else t for t in todo]
        if i + 1 not in todo:
            todo.insert(0, i + 1)
    return lines


def in_scope(rel):
    if any(rel.startswith(d) or ("/" + d) in rel for d in SKIP_DIRS):
        return False
    return rel.endswith(SCOPE_EXT) or os.path.basename(rel) == "meson.build"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--base", default="7db3b5b")
    ap.add_argument("root", nargs="?", default=".")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    renames = rename_map(root, a.base)
    tree = Tree(root, renames, a.base)
    notes = {"unresolved": [], "stale": [], "mapped": [], "issues": [], "long": [],
             "other": []}
    changed = {}
    ncit = npath = 0
    for rel in sorted(tree.files):
        full = os.path.join(root, rel)
        if not os.path.isfile(full) or any(rel.startswith(d) or ("/" + d) in rel
                                           for d in SKIP_DIRS):
            continue
        try:
            with open(full, encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        if not in_scope(rel):
            for m in list(NAMED.finditer(text)) + list(BARE_RESEARCH.finditer(text)):
                notes["other"].append("%s:%d: %s" % (rel, line_of(text, m.start()),
                                                     m.group(0).replace("\n", " ")))
            continue
        new, n1 = rewrite_citations(text, rel, notes)
        new, n2 = rewrite_paths(new, rel, tree, notes)
        spans = comment_spans(new, rel)
        for m in ISSUE.finditer(new):
            if rel.endswith(".md") or in_spans(m.start(), spans, ("c",)):
                notes["issues"].append("%s:%d: %s" % (rel, line_of(new, m.start()),
                                                      re.sub(r"\s+", " ", m.group(0))))
        if new != text and not rel.endswith(".md"):
            old_lines = set(text.splitlines())
            lines = new.split("\n")
            todo = [i for i, line in enumerate(lines)
                    if width(line) > LIMIT and line not in old_lines]
            if todo:
                new = "\n".join(rewrap(lines, todo, rel, notes))
        if new != text:
            changed[rel] = (n1, n2)
            ncit += n1
            npath += n2
            if a.write:
                with open(full, "w", encoding="utf-8") as f:
                    f.write(new)

    def section(title, items):
        print("%s: %d" % (title, len(items)))
        for it in items:
            print("  " + it)

    print("rewrite-citations: %s, base %s, %d renames known" %
          ("written" if a.write else "dry run (nothing written)", a.base, len(renames)))
    print("files changed: %d (citations %d, paths %d)" % (len(changed), ncit, npath))
    for rel, (n1, n2) in sorted(changed.items()):
        print("  %-48s citations %2d  paths %2d" % (rel, n1, n2))
    section("paths rewritten", notes["mapped"])
    section("stale paths left (no unambiguous new home)", notes["stale"])
    section("bare citations with no document in their file (left)", notes["unresolved"])
    section("citations in files outside the scope (left)", notes["other"])
    section("\"issue N\" mentions to reword (left)", notes["issues"])
    section("changed lines still longer than %d columns (rewrap by hand)" % LIMIT,
            notes["long"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
