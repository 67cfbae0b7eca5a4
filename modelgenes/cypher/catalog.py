"""Named, parameterised Cypher queries kept as ``.cypher`` files (data, not code).

Each file under ``modelgenes/cypher/<group>/<name>.cypher`` starts with a header of ``//`` lines::

    // question: Which models does the store hold for a family?
    // param family: string: the family name, e.g. "bert"
    // param limit: integer: at most this many rows
    // columns: model, name, score

followed by one statement. The query's name is ``<group>/<name>``; ``question`` and ``columns`` are
required, and every ``$parameter`` the statement uses must be declared by a ``param`` line (and every
declared one used). Values always reach the store as parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from modelgenes.errors import QueryError

__all__ = ["NamedQuery", "Param", "all_queries", "get_query", "parse_query"]

_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HEADER = re.compile(r"^//\s*(question|param|columns)\b\s*(.*)$")
_PARAM_DECL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z_\[\]]+)\s*:\s*(.+)$")
PARAM_TYPES = ("string", "integer", "float", "boolean", "list", "map", "list[string]")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    question: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    text: str  # the statement, header stripped

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def parse_query(name: str, source: str) -> NamedQuery:
    """Parse one ``.cypher`` file's text; ``QueryError`` names the file and what is wrong."""
    question = ""
    columns: tuple[str, ...] = ()
    params: list[Param] = []
    body: list[str] = []
    in_header = True
    for line in source.splitlines():
        stripped = line.strip()
        match = _HEADER.match(stripped) if in_header else None
        if match:
            key, value = match.group(1), match.group(2).lstrip(":").strip()
            if key == "question":
                question = value
            elif key == "columns":
                columns = tuple(c.strip() for c in value.split(",") if c.strip())
            else:
                decl = _PARAM_DECL.match(value)
                if not decl or decl.group(2) not in PARAM_TYPES:
                    raise QueryError(name, f"bad param line {value!r}: want 'name: type: description'")
                params.append(Param(decl.group(1), decl.group(2), decl.group(3).strip()))
            continue
        if in_header and (stripped.startswith("//") or not stripped):
            continue
        in_header = False
        body.append(line)
    text = "\n".join(body).strip().rstrip(";").strip()
    if not question:
        raise QueryError(name, "header lacks '// question: ...'")
    if not columns:
        raise QueryError(name, "header lacks '// columns: ...'")
    if not text:
        raise QueryError(name, "file holds no statement")
    used = set(_PARAM_USE.findall(_without_strings_and_comments(text)))
    declared = {p.name for p in params}
    if used - declared:
        raise QueryError(name, f"parameters used but not declared: {sorted(used - declared)}")
    if declared - used:
        raise QueryError(name, f"parameters declared but not used: {sorted(declared - used)}")
    return NamedQuery(name, question, tuple(params), columns, text)


def _without_strings_and_comments(text: str) -> str:
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "''", text)
    return re.sub(r"//[^\n]*", "", text)


@cache
def all_queries() -> dict[str, NamedQuery]:
    """Every query shipped in the package, by name (``group/name``)."""
    root = resources.files("modelgenes.cypher")
    out: dict[str, NamedQuery] = {}
    for path in sorted(Path(str(root)).rglob("*.cypher")):
        rel = path.relative_to(Path(str(root))).with_suffix("").as_posix()
        out[rel] = parse_query(rel, path.read_text(encoding="utf-8"))
    return out


def get_query(name: str) -> NamedQuery:
    """The named query; ``QueryError`` listing close names when there is none."""
    queries = all_queries()
    if name in queries:
        return queries[name]
    close = [q for q in queries if name.split("/")[-1] in q]
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(queries))}"
    raise QueryError(name, f"no such query{hint}")
