"""Print the authorisation matrix (``tfe.app.web.authz_matrix``) as Markdown, or write it into the
« Authorisation matrix » section of docs/security.md (between its markers) with ``--write``.

Usage: ``.venv/bin/python scripts/authz_table.py [--write]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from tfe.app.web.authz_matrix import docs_section, replace_docs_section

DOCS = Path(__file__).resolve().parents[1] / "docs" / "security.md"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        DOCS.write_text(replace_docs_section(DOCS.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"written: {DOCS}")
        return 0
    if argv:
        print("usage: authz_table.py [--write]", file=sys.stderr)
        return 2
    print(docs_section(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
