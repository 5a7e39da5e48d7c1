"""The head revisions the migration files declare, read without importing alembic.

Every command that opens the database checks that its schema is at the newest revisions. Importing alembic
(and its script directory machinery) costs about 0.7 s here, paid by every `mt backtest` although the
schema is almost always current. So the check reads each migration file's ``revision`` and
``down_revision`` assignments with :mod:`ast` (the files are ours and follow alembic's template), and
alembic is imported only when an upgrade is due. A test holds this equal to alembic's own answer.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

VERSIONS = Path(__file__).parent / "migrations" / "versions"


def _literal(node: ast.expr) -> set[str]:
    value = ast.literal_eval(node)
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    return {str(item) for item in value}


@cache
def _declared() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision the files declare, and every revision one of them names as its parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if not isinstance(target, ast.Name) or value is None:
                continue
            if target.id == "revision":
                revisions |= _literal(value)
            elif target.id == "down_revision":
                parents |= _literal(value)
    return frozenset(revisions), frozenset(parents)


def declared_revisions() -> frozenset[str]:
    """Every revision this code has a migration for: a database stamped with any other is newer."""
    return _declared()[0]


def declared_heads() -> frozenset[str]:
    """Revisions no other revision names as its ``down_revision``: the newest of every branch."""
    revisions, parents = _declared()
    return revisions - parents
