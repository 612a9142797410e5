"""The repository's documentation stands alone: what the code and docs point a reader to exists here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    *ROOT.joinpath("src").rglob("*.py"),
    *ROOT.joinpath("docs").rglob("*.md"),
    ROOT / "README.md",
]
# Documents the project was briefed from, which are not part of it: a reader cannot open them.
OUTSIDE = re.compile(r"\bCONTRACT\b|\b[Ss]eeds?\s*0\d\d\b|\bseeds/")
DOC_PATH = re.compile(r"\bdocs/[\w./-]+\.md\b")


def test_nothing_cites_documents_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in TEXTS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "cites a document the repository does not have:\n" + "\n".join(found)


def test_every_docs_page_the_code_and_docs_name_exists() -> None:
    missing = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in TEXTS
        for name in DOC_PATH.findall(path.read_text())
        if not (ROOT / name).is_file()
    ]
    assert not missing, "names a docs page that does not exist:\n" + "\n".join(missing)
