"""test_kinds.py — the one table of finding kinds (common/guard_kinds.h)
against everything made from it and everything that documents it: a
section of docs/checks.md per kind (its anchor), every kind named in
README.md, the names equal to the contract's list (DESIGN.md section 7,
compared only where ../shared/DESIGN.md exists: CI machines do not have
it), and the SARIF rules and JUnit testcases being the table's rows.
The table is read from the analyzer (`--list-kinds --format=json`); none
of these tests runs the shim."""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

from harness import ASAN_ENV, ROOT, LogDir, analyze, analyzer, test

DESIGN = os.path.join(ROOT, "..", "shared", "DESIGN.md")


def table():
    r = subprocess.run([analyzer(), "--list-kinds", "--format=json"], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, **ASAN_ENV))
    assert r.returncode == 0 and not r.stderr, "status %d\n%s" % (r.returncode, r.stderr[-2000:])
    kinds = json.loads(r.stdout)["kinds"]
    assert kinds, "an empty table"
    return kinds


def github_anchor(heading):
    """The anchor GitHub gives a heading: its text as rendered (no code or
    emphasis marks, a link's text only), lower case, punctuation other than
    '-' and '_' dropped, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def heading_anchors(path):
    """Anchors of the '## ' and '### ' headings of a Markdown file (outside
    fenced code), with GitHub's -1, -2... for repeated ones."""
    anchors, seen, fenced = [], {}, False
    with open(path) as fh:
        for line in fh:
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
                continue
            m = re.match(r"(##|###) +(.*?)#*\s*$", line)
            if fenced or not m:
                continue
            a = github_anchor(m.group(2))
            n = seen.get(a, 0)
            seen[a] = n + 1
            anchors.append(a if n == 0 else "%s-%d" % (a, n))
    return anchors


def contract_kinds(path):
    """The kind names of DESIGN.md's section 7 (its table's first column)."""
    names, inside = [], False
    with open(path) as fh:
        for line in fh:
            if re.match(r"\s*7\. \*\*Finding kinds\*\*", line):
                inside = True
            elif inside and re.match(r"\s*\d+\. \*\*", line):
                break
            elif inside:
                m = re.match(r"\s*\| `([^`]+)` \|", line)
                if m:
                    names.append(m.group(1))
    assert names, "no kinds found in section 7 of " + path
    return names


@test
def the_table_of_kinds_is_whole_and_the_analyzer_is_built_from_it():
    kinds = table()
    names = [k["kind"] for k in kinds]
    values = [k["value"] for k in kinds]
    assert len(set(names)) == len(names) and len(set(values)) == len(values), kinds
    assert all(v >= 1 for v in values), values
    assert sorted(k["rank"] for k in kinds) == list(range(len(kinds))), "ranks are 0..n-1 once each"
    for k in kinds:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", k["kind"]), k
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", k["rule"]), k
        assert k["level"] in ("error", "warning", "note"), k
        assert k["origin"] in ("runtime", "static"), k
        assert k["help"] and "\n" not in k["help"] and k["description"] and k["anchor"], k
        assert not re.search(r"\bseed \d", k["help"] + k["description"]), k
    # the build is the header's: same rows, same numbers
    with open(os.path.join(ROOT, "common", "guard_kinds.h")) as fh:
        rows = re.findall(r'X\((GUARD_FK_\w+),\s*(\d+),\s*"([^"]+)"', fh.read())
    assert [(n, int(v)) for _, v, n in rows] == list(zip(names, values)), rows


@test
def every_kind_has_a_section_in_docs_checks_md():
    anchors = set(heading_anchors(os.path.join(ROOT, "docs", "checks.md")))
    missing = ["%s (#%s)" % (k["kind"], k["anchor"]) for k in table() if k["anchor"] not in anchors]
    assert not missing, "no '## ' or '### ' heading in docs/checks.md for: " + ", ".join(missing)


@test
def every_kind_is_named_in_the_readme():
    with open(os.path.join(ROOT, "README.md")) as fh:
        readme = fh.read()
    missing = [k["kind"] for k in table() if "`%s`" % k["kind"] not in readme]
    assert not missing, "README.md does not name: " + ", ".join(missing)


@test
def the_kinds_are_the_contracts_list():
    if not os.path.exists(DESIGN):  # not on CI machines: nothing to compare with
        return
    contract, ours = contract_kinds(DESIGN), [k["kind"] for k in table()]
    assert sorted(contract) == sorted(ours), \
        "not in the table: %s; not in the contract: %s" % (sorted(set(contract) - set(ours)),
                                                           sorted(set(ours) - set(contract)))


@test
def sarif_rules_and_junit_cases_are_the_tables_rows():
    kinds = table()
    d = LogDir()  # no logs: a run without findings still lists every rule
    status, text, _ = analyze(d.path, fmt="sarif")
    assert status == 0, status
    rules = json.loads(text)["runs"][0]["tool"]["driver"]["rules"]
    by_value = sorted(kinds, key=lambda k: k["value"])
    assert [r["id"] for r in rules] == [k["kind"] for k in by_value]
    for r, k in zip(rules, by_value):
        assert r["name"] == k["rule"] and r["shortDescription"]["text"] == k["help"], (r, k)
        assert r["fullDescription"]["text"] == k["description"], (r, k)
        assert r["defaultConfiguration"]["level"] == k["level"], (r, k)
        assert r["properties"]["tags"] == ["libguard", k["origin"]], (r, k)
        if "helpUri" in r:
            assert r["helpUri"].endswith("checks.md#" + k["anchor"]), r["helpUri"]
    status, text, _ = analyze(d.path, fmt="junit")
    cases = [c.get("name") for c in ET.fromstring(text).iter("testcase")]
    assert cases == [k["kind"] for k in by_value], cases
    d.cleanup()
