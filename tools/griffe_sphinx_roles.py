"""A griffe extension: the package's reST markup in docstrings, as Markdown mkdocstrings renders.

The docstrings use Sphinx roles (``:class:`RetryPolicy```) and ``::`` literal blocks. This turns
each role into a cross-reference to the object it names, resolved in the scope of the docstring
(so ``:meth:`aclose``` in ``PlaidClient`` points at ``PlaidClient.aclose``), and drops the
``::`` markers (the indented block after them is already a Markdown code block). An attrs class
has no ``__init__`` that griffe can see, so its ``:param x:`` fields are read as ``:ivar x:``
(documented attributes) instead of parameters of a missing signature. A role whose
target does not resolve stays a cross-reference to the name as written, so ``mkdocs build
--strict`` fails on it instead of rendering a dead name.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|attr|data|mod|exc|obj):`(~?)([^`]+)`")
_LITERAL_MARKER = re.compile(r"(?m)^(\s*)::\s*$|(?<=\S)::$")
_PARAM = re.compile(r"(?m)^(\s*):param ")


def _target(obj: griffe.Object, name: str) -> str:
    if name.startswith("plaid_async"):
        return name
    head, _, rest = name.partition(".")
    try:
        base = obj.resolve(head)
    except griffe.NameResolutionError:
        return name
    return f"{base}.{rest}" if rest else base


def rewrite(obj: griffe.Object, text: str) -> str:
    """``text`` with roles as Markdown cross-references and ``::`` markers dropped."""

    def role(match: re.Match[str]) -> str:
        short, name = match.group(1) == "~", match.group(2)
        shown = name.rsplit(".", 1)[-1] if short else name
        return f"[`{shown}`][{_target(obj, name)}]"

    text = _ROLE.sub(role, text)
    if obj.is_class and "__init__" not in obj.members:
        text = _PARAM.sub(r"\1:ivar ", text)
    return _LITERAL_MARKER.sub(lambda m: "" if m.group(1) is not None else ":", text)


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias and isinstance(member, griffe.Object):
            yield from _walk(member)


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of a loaded package once all its modules are known."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj, obj.docstring.value)
