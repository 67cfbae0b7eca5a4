"""Named, parameterised Cypher queries kept as ``.cypher`` files (data, not code).

Each file under ``modelgenes/cypher/<group>/<name>.cypher`` starts with a header of ``//`` lines::

    // question: Which models does the store hold for a family?
    // param family: string: the family name, e.g. "bert"
    // param limit: integer = 20: at most this many rows (a default makes the parameter optional)
    // columns: model, name, score

followed by one statement. The query's name is ``<group>/<name>``; ``question`` and ``columns`` are
required, and every ``$parameter`` the statement uses must be declared by a ``param`` line (and every
declared one used). Values always reach the store as parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from modelgenes.errors import QueryError

__all__ = ["NamedQuery", "Param", "all_queries", "get_query", "parse_query"]

_PARAM_USE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_HEADER = re.compile(r"^//\s*(question|param|columns)\b\s*(.*)$")
_PARAM_DECL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z_\[\]]+)\s*(?:=\s*([^:]+?)\s*)?:\s*(.+)$")
# "model" is a string holding a model id; the CLI resolves what the user typed (path, sha256 prefix,
# hub id, name) to that id before the query runs.
PARAM_TYPES = ("string", "model", "integer", "float", "boolean", "list", "map", "list[string]")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    default: str | None = None  # as written in the header; None means required

    def coerce(self, raw: str) -> Any:
        """Turn a command-line string into this parameter's type; ValueError when it does not fit."""
        if self.type == "integer":
            return int(raw)
        if self.type == "float":
            return float(raw)
        if self.type == "boolean":
            if raw.lower() in ("true", "yes", "1"):
                return True
            if raw.lower() in ("false", "no", "0"):
                return False
            raise ValueError(f"not a boolean: {raw!r}")
        if self.type in ("list", "list[string]", "map"):
            value = json.loads(raw) if raw.strip().startswith(("[", "{")) else None
            if value is None and self.type != "map":
                return [part.strip() for part in raw.split(",") if part.strip()]
            if self.type == "map" and not isinstance(value, dict):
                raise ValueError(f"not a JSON object: {raw!r}")
            return value
        return raw


@dataclass(frozen=True)
class NamedQuery:
    name: str
    question: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    text: str  # the statement, header stripped

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def bind(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Typed parameters from ``name -> text`` (command-line values), defaults filled in.

        ``QueryError`` names an unknown, missing or ill-typed parameter.
        """
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            known = ", ".join(p.name for p in self.params) or "none"
            raise QueryError(
                self.name, f"unknown parameter(s) {', '.join(unknown)}; this query takes: {known}"
            )
        bound: dict[str, Any] = {}
        for p in self.params:
            text = raw.get(p.name, p.default)
            if text is None:
                raise QueryError(self.name, f"missing parameter {p.name} ({p.type}: {p.description})")
            try:
                bound[p.name] = p.coerce(text)
            except ValueError as e:
                raise QueryError(self.name, f"parameter {p.name} wants {p.type}: {e}") from e
        return bound


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
                params.append(Param(decl.group(1), decl.group(2), decl.group(4).strip(), decl.group(3)))
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
