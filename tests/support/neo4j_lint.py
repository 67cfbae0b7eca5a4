"""Lint Cypher with Neo4j's own linter under node, for tests: no Neo4j server needed.

`lint_cypher` sends a batch of statements to ``tests/support/cypher_lint.mjs``, which runs
``lintCypherQuery`` of the npm package ``@neo4j-cypher/language-support`` (pinned in package.json,
installed by ``npm ci`` at the repo root). Version 2.0.0-next.20 is pinned because it is the last one
that runs on node 18 and 20; later ones require node 22.15 (next.26) or 24.11 (next.36 on). One node
process lints the whole batch: starting it takes about two seconds, each statement some milliseconds.

What is reported (every diagnostic, errors and warnings alike; our tests treat both as failures):

- syntax errors;
- semantic errors from Neo4j's own analyser: undefined variables, type mismatches, wrong function
  arity, duplicate or mismatched column names (``UNION``), and the like;
- parameters the query uses but that are not declared (error ``Parameter $x is not defined.``);
- labels and relationship types not in the schema (warnings);
- unknown functions and procedures: the linter is given the built-in signatures of a Neo4j 5 server,
  so APOC, GDS or a misspelt function name is an error;
- performance and deprecation notifications as warnings: cartesian products between disconnected
  patterns, unbounded shortest paths, ``CALL { WITH x ... }`` without a scope clause;
- checks the library lacks, added by the node script (messages start with ``modelgenes:``): labels and
  relationship types outside the schema written by ``CREATE`` / ``MERGE``, set or removed by ``SET`` /
  ``REMOVE``, or named in ``CREATE INDEX`` / ``CREATE CONSTRAINT`` (the library itself only checks the
  ones a query reads); declared parameters the query never uses; more than one statement in one query;
  an empty query.

What it does NOT catch:

- property keys: ``m.naem`` passes, whatever ``propertyKeys`` holds (the library uses them only for
  completion);
- parameter types: sample values only declare that a parameter exists (``RETURN $id + 1`` with a string
  ``id`` passes), and ``null`` counts as declared;
- labels or types inside strings or dynamic expressions (``type(r) = 'X'``, ``SET m:$($label)``);
- anything about the data or the server: missing indexes, constraint violations, runtime errors such as
  a ``MERGE`` on ``null``, query plans;
- differences between Neo4j and FalkorDB: it lints Neo4j's Cypher 5 only (FalkorDB runs the statements
  for real in the integration tests).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CypherDiagnostic", "LinterUnavailableError", "lint_cypher", "linter_available"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(__file__).with_name("cypher_lint.mjs")
_PACKAGE_DIR = _REPO_ROOT / "node_modules" / "@neo4j-cypher" / "language-support"
# Loading the linter takes seconds; this leaves room for a slow CI machine and a large batch.
_TIMEOUT_SECONDS = 300


class LinterUnavailableError(RuntimeError):
    """node or the npm packages are missing, or the node script failed; the message says what to do."""


@dataclass(frozen=True)
class CypherDiagnostic:
    """One finding of the linter on one query; `line` and `column` are 1-based, in the query text."""

    query_name: str
    severity: str  # "error" or "warning"
    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.query_name}:{self.line}:{self.column}: {self.severity}: {self.message}"


def linter_available() -> str | None:
    """Return None when the linter can run, else the reason it cannot (and how to fix it)."""
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 18.18 or later"
    if not _PACKAGE_DIR.is_dir():
        return f"{_PACKAGE_DIR.relative_to(_REPO_ROOT)} is missing: run `npm ci` in {_REPO_ROOT}"
    return None


def lint_cypher(
    queries: Sequence[tuple[str, str, Mapping[str, object]]],
    *,
    labels: Iterable[str],
    relationship_types: Iterable[str],
) -> list[CypherDiagnostic]:
    """Lint every (name, text, parameters) query in one node process; return all diagnostics.

    `parameters` maps each parameter the query may use to a JSON-serialisable sample value; a `$x`
    missing from it is an error, a declared one the query does not use a warning. `labels` and
    `relationship_types` are the whole graph schema. Diagnostics come grouped by query, in input order.
    Raises LinterUnavailableError when node or `node_modules` is missing or the script fails.
    """
    if not queries:
        return []
    reason = linter_available()
    if reason is not None:
        raise LinterUnavailableError(reason)
    request = {
        "schema": {"labels": sorted(set(labels)), "relationshipTypes": sorted(set(relationship_types))},
        "queries": [
            {"name": name, "text": text, "parameters": dict(parameters)} for name, text, parameters in queries
        ],
    }
    try:
        completed = subprocess.run(
            ["node", str(_SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            check=False,
            cwd=_REPO_ROOT,
            timeout=_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as e:
        raise LinterUnavailableError(f"{_SCRIPT.name} took over {_TIMEOUT_SECONDS} s") from e
    if completed.returncode != 0:
        raise LinterUnavailableError(
            f"{_SCRIPT.name} exited {completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    per_query = json.loads(completed.stdout)
    if len(per_query) != len(queries):
        raise LinterUnavailableError(f"{_SCRIPT.name} answered {len(per_query)} of {len(queries)} queries")
    return [
        CypherDiagnostic(
            query_name=name,
            severity=found["severity"],
            message=found["message"],
            line=found["line"],
            column=found["column"],
        )
        for (name, _text, _parameters), diagnostics in zip(queries, per_query, strict=True)
        for found in diagnostics
    ]
