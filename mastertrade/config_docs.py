"""The documentation of each setting: the docstring written under its attribute in ``config.py``.

pydantic can collect these itself (``use_attribute_docstrings``), but it does so when each settings class
is created, by reading and parsing the module's source: about 0.05 s of every command's start-up, for text
only the rendered config file (``mt init``, ``mt config``) shows. This reads them when asked instead."""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache


@cache
def attribute_docs(cls: type) -> dict[str, str]:
    """``{attribute: docstring}`` for the annotated attributes of ``cls`` (and of its bases) that a string
    literal directly follows, cleaned as ``inspect.cleandoc`` cleans docstrings."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass.__module__ == "builtins":
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):  # a class without source (built in, or made at run time)
            continue
        body = ast.parse(source).body[0]
        if not isinstance(body, ast.ClassDef):
            continue
        for statement, following in zip(body.body, body.body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
