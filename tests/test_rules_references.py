"""References to the rules stay followable (issue 11 item 8): every ``docs/rules.md §<section>``
and ``rules.md#<section>`` in the code, tests and docs names a section that exists in
docs/rules.md, and no comment cites the old ``SPEC §…`` / ``LEDGER.md`` files, which are not in
the repository (docs/rules.md §references maps them)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
# docs/rules.md's own table quotes the old forms on purpose; architecture.md may explain them.
QUOTING_OLD_FORMS = {RULES, ROOT / "docs" / "architecture.md", Path(__file__).resolve()}
SUFFIXES = {".py", ".js", ".mjs", ".md", ".json", ".html", ".txt"}


def _files():
    for folder in ("wastebank", "tests", "docs", "bench", "migrations"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and "vendor" not in path.parts:
                yield path
    yield ROOT / "README.md"


def _anchors() -> set[str]:
    return set(re.findall(r'<a id="([\w-]+)"></a>', RULES.read_text(encoding="utf-8")))


def test_rules_page_has_the_sections_the_code_cites():
    anchors = _anchors()
    assert {"money", "fees", "quantities", "ledger", "balance", "idempotency", "time", "periods",
            "daily-close", "scope", "numbering", "api", "offline", "field-cases", "references"} <= anchors
    # every invariant and field case keeps its label on the page
    text = RULES.read_text(encoding="utf-8")
    assert all(f"| I{n} |" in text for n in range(1, 14))
    assert all(f"**C{n:02d}**" in text for n in range(1, 20))


def test_every_rules_reference_names_an_existing_section():
    anchors = _anchors()
    bad = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for ref in re.finditer(r"rules\.md §([\w-]+(?: \([^)]*\))?(?:, §[\w-]+(?: \([^)]*\))?)*)", text):
            for name in re.findall(r"§([\w-]+)", "§" + ref.group(1)):
                if name not in anchors:
                    bad.append(f"{path.relative_to(ROOT)}: §{name}")
        for name in re.findall(r"rules\.md#([\w-]+)", text):
            if name not in anchors:
                bad.append(f"{path.relative_to(ROOT)}: #{name}")
    assert bad == []


def test_no_reference_to_files_outside_the_repository():
    old = re.compile(r"SPEC §\d|LEDGER\.md")
    found = []
    for path in _files():
        if path.resolve() in QUOTING_OLD_FORMS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if old.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert found == [], "point these to docs/rules.md (its §references table):\n" + "\n".join(found)
