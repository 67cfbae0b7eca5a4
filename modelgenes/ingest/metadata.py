"""Metadata beside a model file: a Hugging Face style folder (model card front matter in
``README.md``, ``config.json``), the Hugging Face cache layout, and batch manifests (CSV or JSONL).

``read_model_with_metadata(path, row)`` is the one pure function a batch step calls per model: it
reads the file (``read_model``) and merges, field by field, the manifest row (first), then the card
and config found beside the file, then what the path itself says (``models--ORG--NAME/snapshots/…``).

Manifest columns (after the PTMTorrent / Hugging Face field names): ``path`` (required; relative to
the manifest's folder), ``hub``, ``hub_id``, ``publisher``, ``license``, ``architecture``, ``task``,
``datasets``, ``base_model``, ``base_model_relation``. In CSV the list columns (``datasets``,
``base_model``, ``architecture``) separate items with ``;``; in JSONL they are lists (a single string is
one item).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph, ModelInfo
from modelgenes.ingest.license_ids import license_ids

__all__ = [
    "BASE_MODEL_RELATIONS",
    "MANIFEST_COLUMNS",
    "ManifestRow",
    "Metadata",
    "apply_metadata",
    "folder_metadata",
    "hub_id_from_path",
    "metadata_beside",
    "metadata_from_columns",
    "read_manifest",
    "read_model_with_metadata",
]

MANIFEST_COLUMNS = (
    "path",
    "hub",
    "hub_id",
    "publisher",
    "license",
    "architecture",
    "task",
    "datasets",
    "base_model",
    "base_model_relation",
)
_LIST_COLUMNS = frozenset({"datasets", "base_model", "architecture"})
# Hugging Face's base_model_relation values, and the relations users ask for beyond them.
BASE_MODEL_RELATIONS = frozenset(
    {"adapter", "merge", "quantized", "finetune", "conversion", "pruned", "distilled", "same-architecture"}
)
_MAX_TEXT = 1 << 20  # a card or config larger than this is not read whole


@dataclass(frozen=True)
class Metadata:
    """What a card, config, manifest row or path says about a model; empty fields say nothing."""

    hub: str = ""
    hub_id: str = ""
    publisher: str = ""
    license: str = ""  # SPDX id/expression, or the hub's id (llama3.1, openrail, other)
    license_name: str = ""
    license_link: str = ""
    base_models: tuple[str, ...] = ()
    base_model_relation: str = ""
    datasets: tuple[str, ...] = ()
    task: str = ""
    library_name: str = ""
    tags: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    model_type: str = ""
    sources: tuple[str, ...] = ()  # the files (or "path") the values came from
    warnings: tuple[str, ...] = ()

    def merged_over(self, other: Metadata) -> Metadata:
        """This metadata, its empty fields filled from ``other``; sources and warnings of both."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("sources", "warnings"):
                values[f.name] = tuple(dict.fromkeys((*mine, *theirs)))
            else:
                values[f.name] = mine if mine else theirs
        return Metadata(**values)

    def is_empty(self) -> bool:
        return all(not getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "warnings")


@dataclass(frozen=True)
class ManifestRow:
    """One manifest line: the model's absolute path, where the row was, and its metadata."""

    path: Path
    line: int
    metadata: Metadata = field(default_factory=Metadata)


# --------------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------------
def _snapshot_root(path: Path) -> tuple[Path, str, str] | None:
    """(snapshot folder, hub id, publisher) when ``path`` lies in ``models--ORG--NAME/snapshots/REV/``."""
    parts = path.parts
    for k in range(len(parts) - 2):
        if parts[k].startswith("models--") and parts[k + 1] == "snapshots" and k + 2 < len(parts):
            names = parts[k][len("models--") :].split("--")
            if not names or not all(names):
                return None
            if len(names) == 1:
                hub_id, publisher = names[0], ""
            else:
                hub_id, publisher = f"{names[0]}/{'--'.join(names[1:])}", names[0]
            return Path(*parts[: k + 3]), hub_id, publisher
    return None


def hub_id_from_path(path: str | Path) -> tuple[str, str] | None:
    """(hub id, publisher) for a file inside a Hugging Face cache (``models--ORG--NAME/snapshots/REV/…``)."""
    found = _snapshot_root(Path(path).absolute())
    return None if found is None else (found[1], found[2])


# --------------------------------------------------------------------------------------------------
# Cards and configs
# --------------------------------------------------------------------------------------------------
def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, Iterable) and not isinstance(value, Mapping):
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())
    return (str(value),)


def _string(value: Any) -> str:
    if value is None or isinstance(value, Mapping | list):
        return ""
    return str(value).strip()


def _read_text(path: Path) -> str:
    with path.open("rb") as f:
        return f.read(_MAX_TEXT).decode("utf-8", "replace")


def _front_matter(text: str) -> str | None:
    """The YAML between a leading ``---`` line and the next ``---`` line, if the text starts with one."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return None
    lines = text.splitlines()
    if lines[0].strip() != "---":
        return None
    for k in range(1, len(lines)):
        if lines[k].strip() in ("---", "..."):
            return "\n".join(lines[1:k])
    return None


def _card(path: Path) -> Metadata:
    try:
        block = _front_matter(_read_text(path))
    except OSError as e:
        return Metadata(warnings=(f"{path}: cannot read the model card: {e.strerror or e}",))
    if block is None:
        return Metadata()
    try:
        card = yaml.safe_load(block)
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return Metadata(warnings=(f"{path}: model card front matter is not valid YAML: {first}",))
    if not isinstance(card, Mapping):
        return Metadata(warnings=(f"{path}: model card front matter is not a mapping",))
    relation = _string(card.get("base_model_relation")).lower()
    warnings: tuple[str, ...] = ()
    if relation and relation not in BASE_MODEL_RELATIONS:
        warnings = (f"{path}: unknown base_model_relation {relation!r}",)
    return Metadata(
        license=license_ids(card.get("license")),
        license_name=_string(card.get("license_name")),
        license_link=_string(card.get("license_link")),
        base_models=_strings(card.get("base_model")),
        base_model_relation=relation,
        datasets=_strings(card.get("datasets")),
        task=_string(card.get("pipeline_tag")),
        library_name=_string(card.get("library_name")),
        tags=_strings(card.get("tags")),
        sources=(str(path),),
        warnings=warnings,
    )


def _config(path: Path) -> Metadata:
    try:
        config = json.loads(_read_text(path))
    except OSError as e:
        return Metadata(warnings=(f"{path}: cannot read config: {e.strerror or e}",))
    except json.JSONDecodeError as e:
        return Metadata(warnings=(f"{path}: config is not valid JSON: {e}",))
    if not isinstance(config, Mapping):
        return Metadata(warnings=(f"{path}: config is not a JSON object",))
    return Metadata(
        architectures=_strings(config.get("architectures")),
        model_type=_string(config.get("model_type")),
        sources=(str(path),),
    )


def folder_metadata(folder: str | Path) -> Metadata:
    """What ``README.md`` (front matter) and ``config.json`` in ``folder`` say (empty when neither is)."""
    folder = Path(folder)
    found = Metadata()
    card, config = folder / "README.md", folder / "config.json"
    if card.is_file():
        found = found.merged_over(_card(card))
    if config.is_file():
        found = found.merged_over(_config(config))
    return found


def metadata_beside(model_path: str | Path) -> Metadata:
    """Metadata for a model file from the folders around it: its own folder; its parent when the
    model sits in an ``onnx/`` subfolder (Optimum, transformers.js); the folders up to a Hugging Face
    cache snapshot's root, whose path also gives the hub id and publisher. Nearer folders win."""
    path = Path(model_path).absolute()
    folders = [path.parent]
    snapshot = _snapshot_root(path)
    if snapshot is not None:
        root = snapshot[0]
        folder = path.parent
        while folder != root and root in folder.parents:
            folder = folder.parent
            folders.append(folder)
    elif path.parent.name == "onnx":
        folders.append(path.parent.parent)
    found = Metadata()
    for folder in folders:
        found = found.merged_over(folder_metadata(folder))
    if snapshot is not None:
        found = found.merged_over(Metadata(hub="huggingface", hub_id=snapshot[1], publisher=snapshot[2]))
    return found


# --------------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------------
def _manifest_error(path: Path, line: int | None, problem: str) -> ModelgenesError:
    where = f"{path}, line {line}" if line else str(path)
    return ModelgenesError(f"manifest {where}: {problem}")


def _row(path: Path, line: int, values: Mapping[str, Any], split_lists: bool) -> ManifestRow:
    unknown = [k for k in values if k not in MANIFEST_COLUMNS]
    if unknown:
        raise _manifest_error(
            path, line, f"unknown column {unknown[0]!r} (columns are: {', '.join(MANIFEST_COLUMNS)})"
        )
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key in _LIST_COLUMNS:
            if isinstance(value, str):
                items = value.split(";") if split_lists else [value]
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                items = value
            else:
                raise _manifest_error(
                    path, line, f"{key} must be a string or a list of strings, not {value!r}"
                )
            cleaned[key] = tuple(i.strip() for i in items if i.strip())
        elif isinstance(value, str):
            cleaned[key] = value.strip()
        else:
            raise _manifest_error(path, line, f"{key} must be a string, not {value!r}")
    model = cleaned.get("path", "")
    if not model:
        raise _manifest_error(path, line, "the path column is empty")
    relation = cleaned.get("base_model_relation", "").lower()
    if relation and relation not in BASE_MODEL_RELATIONS:
        allowed = ", ".join(sorted(BASE_MODEL_RELATIONS))
        raise _manifest_error(path, line, f"base_model_relation {relation!r} is not one of: {allowed}")
    hub_id = cleaned.get("hub_id", "")
    if any(c.isspace() for c in hub_id):
        raise _manifest_error(path, line, f"hub_id {hub_id!r} contains whitespace")
    publisher = cleaned.get("publisher", "") or (hub_id.split("/")[0] if "/" in hub_id else "")
    model_path = Path(os.path.expanduser(model))
    if not model_path.is_absolute():
        model_path = path.absolute().parent / model_path
    metadata = Metadata(
        hub=cleaned.get("hub", ""),
        hub_id=hub_id,
        publisher=publisher,
        license=license_ids(cleaned.get("license", "")),
        architectures=cleaned.get("architecture", ()),
        task=cleaned.get("task", ""),
        datasets=cleaned.get("datasets", ()),
        base_models=cleaned.get("base_model", ()),
        base_model_relation=relation,
        sources=(f"{path}:{line}",),
    )
    return ManifestRow(path=Path(os.path.normpath(model_path)), line=line, metadata=metadata)


def read_manifest(path: str | Path) -> dict[Path, ManifestRow]:
    """The rows of a CSV or JSONL manifest (told apart by content: JSONL lines start with ``{``), in
    file order, keyed by the resolved path of the model each describes (symlinks followed, so a batch
    can look a file up by ``path.resolve()``). A bad manifest (unreadable, unknown column, missing
    path, bad value, duplicate path) raises ``ModelgenesError`` naming the file, the line and the
    problem."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise _manifest_error(path, None, f"cannot read it: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise _manifest_error(path, None, f"not UTF-8 text: {e}") from e
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    rows = _jsonl_rows(path, text) if first.startswith("{") else _csv_rows(path, text)
    by_path: dict[Path, ManifestRow] = {}
    for row in rows:
        try:
            key = row.path.resolve()
        except (OSError, RuntimeError) as e:
            raise _manifest_error(path, row.line, f"cannot resolve {row.path}: {e}") from e
        if key in by_path:
            raise _manifest_error(path, row.line, f"{row.path} is already listed on line {by_path[key].line}")
        by_path[key] = row
    return by_path


def _jsonl_rows(path: Path, text: str) -> list[ManifestRow]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as e:
            raise _manifest_error(path, number, f"not valid JSON: {e.msg} (column {e.colno})") from e
        if not isinstance(values, dict):
            raise _manifest_error(path, number, "each line must be a JSON object")
        rows.append(_row(path, number, values, split_lists=False))
    return rows


def _csv_rows(path: Path, text: str) -> list[ManifestRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames
    if not header:
        raise _manifest_error(path, None, "empty manifest (no header line)")
    names = [h.strip() for h in header]
    if "path" not in names:
        raise _manifest_error(path, 1, f"no 'path' column in the header ({', '.join(names)})")
    reader.fieldnames = names
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if None in values:
                raise _manifest_error(path, line, "more values than header columns")
            if all(not (v or "").strip() for v in values.values()):
                continue
            rows.append(
                _row(path, line, {k: v for k, v in values.items() if v is not None}, split_lists=True)
            )
    except csv.Error as e:
        raise _manifest_error(path, reader.line_num, f"not valid CSV: {e}") from e
    return rows


# --------------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------------
def apply_metadata(info: ModelInfo, metadata: Metadata) -> ModelInfo:
    """``info`` with the metadata fields set (the name: the hub id, else the file's stem)."""
    return dataclasses.replace(
        info,
        name=metadata.hub_id or info.name or Path(info.path).stem,
        hub=metadata.hub,
        hub_id=metadata.hub_id,
        publisher=metadata.publisher,
        license=metadata.license,
        license_name=metadata.license_name,
        license_link=metadata.license_link,
        base_models=metadata.base_models,
        base_model_relation=metadata.base_model_relation,
        datasets=metadata.datasets,
        task=metadata.task,
        library_name=metadata.library_name,
        tags=metadata.tags,
        architectures=metadata.architectures,
        model_type=metadata.model_type,
        metadata_sources=metadata.sources,
        warnings=tuple(dict.fromkeys((*info.warnings, *metadata.warnings))),
    )


def metadata_from_columns(values: Mapping[str, Any], source: str = "<row>") -> Metadata:
    """Metadata from manifest columns given as a mapping (``path`` optional here); the same checks as
    ``read_manifest``, errors raised as ``ModelgenesError`` naming ``source``."""
    return _row(Path(source), 0, {"path": "-", **values}, split_lists=True).metadata


def read_model_with_metadata(
    path: str | Path,
    row: ManifestRow | Metadata | Mapping[str, Any] | None = None,
    *,
    sha256: str | None = None,
) -> tuple[ModelGraph, ModelInfo]:
    """Read one model and its metadata: ``row`` (a manifest row, metadata given some other way, or
    manifest columns as a mapping) first, then the card and config beside the file, then the Hugging
    Face cache path. A pure function of its arguments and the files: a batch step (local, or on
    Ray/Dask/Spark) calls it once per model.

    Raises what ``read_model`` raises (``UnreadableModel``, ``UnsupportedFormat``, ``UnsafeModel``);
    a broken card or config only adds a warning.
    """
    from modelgenes.ingest.formats import read_model

    if isinstance(row, ManifestRow):
        given = row.metadata
    elif isinstance(row, Metadata):
        given = row
    elif row is not None:
        given = metadata_from_columns(row)
    else:
        given = Metadata()
    graph, info = read_model(path, sha256=sha256)
    return graph, apply_metadata(info, given.merged_over(metadata_beside(path)))
