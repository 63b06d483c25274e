"""test_docs.py — the documentation holds: its links lead somewhere, every
GUARD_OPTIONS key the shim knows is documented, the man pages render, and
no check is named by an incident's number instead of by its kind."""
import os
import re
import shutil
import subprocess

from harness import ROOT, run, test

DESIGN_MAX_LINES = 320
MAN_PAGES = ["guard-analyze.1", "run-with-guard.1", "libguard.7"]


def markdown_files(root=ROOT):
    """README.md and every docs/*.md."""
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    return files


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks, with
    inline code spans blanked: what a reader sees as text and links."""
    out, fence = [], None
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            m = re.match(r"^\s*(```|~~~)", line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif fence == m.group(1):
                    fence = None
                continue
            if fence is None:
                out.append((n, re.sub(r"`[^`]*`", lambda c: " " * len(c.group(0)), line)))
    return out


def github_slug(heading):
    """The anchor GitHub gives a heading: markdown stripped, lower case,
    everything but letters, digits, '_', '-' and spaces dropped, spaces
    made '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """Every heading anchor of a Markdown file, duplicates numbered as
    GitHub numbers them (-1, -2, ...)."""
    seen, result = {}, set()
    fence = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"^\s*(```|~~~)", line)
            if m:
                fence = m.group(1) if fence is None else (None if fence == m.group(1) else fence)
                continue
            h = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if fence is None and h:
                slug = github_slug(h.group(1))
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                result.add(slug if n == 0 else "%s-%d" % (slug, n))
    return result


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def broken_links(files, root=ROOT):
    """'file:line: target (why)' for each relative link that leads nowhere."""
    problems = []
    for path in files:
        for n, line in prose_lines(path):
            for target in LINK.findall(line):
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue  # http:, https:, mailto: ...
                where = "%s:%d: %s" % (os.path.relpath(path, root), n, target)
                file_part, _, anchor = target.partition("#")
                if file_part.startswith("/"):
                    dest = os.path.join(root, file_part.lstrip("/"))
                elif file_part:
                    dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                else:
                    dest = path
                if not os.path.exists(dest):
                    problems.append(where + " (no such file)")
                    continue
                if anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    problems.append(where + " (no heading with that anchor in %s)"
                                    % os.path.relpath(dest, root))
    return problems


@test
def docs_links_lead_to_existing_files_and_headings():
    files = markdown_files()
    assert len(files) >= 7, "README.md and the docs: %s" % files
    problems = broken_links(files)
    assert not problems, "broken links:\n  " + "\n  ".join(problems)


SEED = re.compile(r"seed[\s_-]*0\d{0,2}(?!\d)", re.IGNORECASE)


def seed_mentions(root=ROOT):
    hits = []
    paths = [os.path.join(root, "README.md")]
    for top in ["docs", "preload", "analyzer", "common", "scripts", "testprogs", "tests", "bench"]:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            paths += [os.path.join(dirpath, name) for name in names]
    for path in sorted(paths):
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except (UnicodeDecodeError, OSError):
            continue  # not text
        for m in SEED.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            hits.append("%s:%d: %r" % (os.path.relpath(path, root), line, m.group(0)))
    return hits


@test
def checks_are_named_by_their_kind_not_by_an_incident_number():
    hits = seed_mentions()
    assert not hits, ("name the check by its kind (or tell its story in a sentence), "
                      "not by an incident's number:\n  " + "\n  ".join(hits))


@test
def design_md_stays_short_and_performance_history_is_gone():
    with open(os.path.join(ROOT, "docs", "design.md"), encoding="utf-8") as fh:
        lines = fh.read().count("\n")
    assert lines <= DESIGN_MAX_LINES, \
        "docs/design.md has %d lines, at most %d: say it shorter" % (lines, DESIGN_MAX_LINES)
    assert not os.path.exists(os.path.join(ROOT, "docs", "performance-history.md")), \
        "docs/performance-history.md is back: measurements belong in docs/performance.md, " \
        "their history in git log"


def documented_option_keys():
    """The keys of docs/options.md's table (rows '| `key` | default | ...')."""
    keys = []
    with open(os.path.join(ROOT, "docs", "options.md"), encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"^\|\s*`([a-z_][a-z0-9_]*)`\s*\|", line)
            if m:
                keys.append(m.group(1))
    return keys


@test
def every_guard_options_key_has_a_row_in_options_md():
    r = run(["/bin/true"], options="help=1:log=0")
    assert r.returncode == 0, "help=1 must not stop the program: %d\n%s" % (r.returncode, r.stderr)
    listed = [m.group(1) for m in re.finditer(r"^  ([a-z_][a-z0-9_]*)\b", r.stderr, re.M)]
    assert len(listed) >= 10, "help=1 lists the keys, two spaces then the key:\n" + r.stderr
    documented = documented_option_keys()
    missing = [k for k in listed if k not in documented]
    assert not missing, "keys of help=1 without a row in docs/options.md: %s" % missing
    stale = [k for k in documented if k not in listed]
    assert not stale, "rows of docs/options.md for keys the shim does not know: %s" % stale


@test
def man_pages_render_without_warnings():
    mandir = os.path.join(ROOT, "docs", "man")
    for page in MAN_PAGES:
        assert os.path.isfile(os.path.join(mandir, page)), "docs/man/%s is missing" % page
    if not shutil.which("groff"):
        print("     skipped the rendering: groff is not installed (Debian package groff-base)")
        return
    for page in MAN_PAGES:
        r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(mandir, page)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and not r.stderr.strip(), \
            "groff -man -ww -z docs/man/%s: status %d\n%s" % (page, r.returncode, r.stderr)
        r = subprocess.run(["groff", "-man", "-Tascii", os.path.join(mandir, page)],
                           capture_output=True, text=True, timeout=60)
        name = page.rsplit(".", 1)[0]
        text = re.sub(r".\x08", "", r.stdout)  # no overstriking (bold, underline)
        assert r.returncode == 0 and "NAME" in text and name in text, \
            "docs/man/%s does not render a NAME section naming %s" % (page, name)
