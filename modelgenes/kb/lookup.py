"""Resolve what a user typed for MODEL (a path, a sha256 prefix, a hub id or a name) to a stored id."""

from __future__ import annotations

from pathlib import Path

from modelgenes.cypher.catalog import get_query
from modelgenes.errors import ModelgenesError
from modelgenes.kb.store import GraphStore

__all__ = ["AmbiguousModel", "ModelNotFound", "resolve_model"]


class ModelNotFound(ModelgenesError):
    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no stored model matches {ref!r} (by path, sha256 prefix, hub id or name)")


class AmbiguousModel(ModelgenesError):
    def __init__(self, ref: str, candidates: list[str]) -> None:
        self.ref = ref
        self.candidates = candidates
        super().__init__(f"{ref!r} matches several models: {'; '.join(candidates)}; give more of the sha256")


def resolve_model(store: GraphStore, ref: str) -> str:
    """The id (sha256) of the one stored model ``ref`` names.

    An existing file is identified by its content (sha256), wherever it lies now.
    """
    from modelgenes.ingest.formats import file_sha256

    path = Path(ref)
    if path.is_file():
        ref_id = file_sha256(path)
        rows = _find(store, ref_id)
        if rows:
            return str(rows[0]["model"])
        raise ModelNotFound(ref)
    rows = _find(store, ref)
    if not rows:
        raise ModelNotFound(ref)
    exact = [r for r in rows if ref in (r["model"], r["hubId"])]
    if len(exact) == 1:
        return str(exact[0]["model"])
    if len(rows) > 1:
        raise AmbiguousModel(ref, [f"{r['model'][:12]} {r['name']}" for r in rows])
    return str(rows[0]["model"])


def _find(store: GraphStore, ref: str) -> list[dict[str, str]]:
    query = get_query("explore/find_model")
    return store.query(query.text, {"ref": ref}, name=query.name)
