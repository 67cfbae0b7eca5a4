"""``modelgenes inspect MODEL... [--manifest FILE] [--format table|json|csv]``: what ingest sees in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit, emit_records
from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph, ModelInfo

__all__ = ["inspect_command", "inspect_record"]

_METADATA_FIELDS = (
    ("hubId", "hub_id"),
    ("hub", "hub"),
    ("publisher", "publisher"),
    ("license", "license"),
    ("licenseName", "license_name"),
    ("licenseLink", "license_link"),
    ("baseModels", "base_models"),
    ("baseModelRelation", "base_model_relation"),
    ("datasets", "datasets"),
    ("task", "task"),
    ("libraryName", "library_name"),
    ("tags", "tags"),
    ("architectures", "architectures"),
    ("modelType", "model_type"),
    ("sources", "metadata_sources"),
)


def inspect_record(graph: ModelGraph, info: ModelInfo) -> dict[str, Any]:
    """One model as the JSON object ``inspect`` prints (camelCase keys, as in the graph schema)."""
    metadata = {key: _plain(getattr(info, attr)) for key, attr in _METADATA_FIELDS if getattr(info, attr)}
    return {
        "path": info.path,
        "format": info.format,
        "producer": " ".join(p for p in (info.producer, info.producer_version) if p),
        "opset": info.opset,
        "irVersion": info.ir_version,
        "nodesBefore": graph.nodes_before_normalisation,
        "nodesAfter": len(graph.nodes),
        "ops": dict(graph.op_histogram().most_common()),
        "params": info.params,
        "quantised": any(n.quantised for n in graph.nodes),
        "archHash": graph.wl_hash(),
        "sha256": info.sha256,
        "sizeBytes": info.size_bytes,
        "externalDataBytes": info.external_data_bytes,
        "metadata": metadata,
        "normalisation": dict(graph.normalisation),
        "warnings": list(info.warnings),
    }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@app.command("inspect")
def inspect_command(
    models: Annotated[list[Path], typer.Argument(help="Model files to inspect.", show_default=False)],
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="CSV or JSONL manifest giving metadata for these files (path, hub_id, license, ...)."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", help="Ops shown in the table, most frequent first (0: all).")
    ] = 15,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Read model files and show what ingest sees in each: format, producer, opset, nodes before and
    after normalisation, op histogram, parameter count, archHash, sha256 and the metadata found beside
    it (model card, config.json, Hugging Face cache path, manifest row).

    Nothing is stored. A file that cannot be read is reported on one line naming it and the cause;
    the others are still inspected (and printed first), and the exit code is 1 when any file failed.
    """
    from modelgenes.ingest.metadata import read_manifest, read_model_with_metadata

    rows = read_manifest(manifest) if manifest else {}
    records: list[dict[str, Any]] = []
    failures: list[str] = []
    for path in models:
        try:
            row = rows.get(path.resolve()) if rows else None
            graph, info = read_model_with_metadata(path, row)
        except ModelgenesError as e:
            failures.append(str(e))
            continue
        except (OSError, RuntimeError) as e:  # e.g. a path that cannot even be resolved
            failures.append(f"{path}: cannot read model: {e}")
            continue
        records.append(inspect_record(graph, info))
    _print(records, fmt, top)
    if failures:
        err = Console(stderr=True)
        for message in failures:
            err.print(f"[bold red]error:[/] {' '.join(message.split())}", highlight=False, soft_wrap=True)
        # One summary error: the app turns it into a red line and exit code 1.
        raise ModelgenesError(f"{len(failures)} of {len(models)} files could not be inspected")


def _print(records: list[dict[str, Any]], fmt: OutputFormat, top: int) -> None:
    if fmt is OutputFormat.json:
        emit_records(records, fmt)
        return
    if fmt is OutputFormat.csv:
        emit(pd.DataFrame.from_records([_flat(r) for r in records], columns=_flat_columns(records)), fmt)
        return
    for r in records:
        ops = list(r["ops"].items())
        shown = ops if top <= 0 else ops[:top]
        op_text = ", ".join(f"{op}×{count}" for op, count in shown)
        if len(shown) < len(ops):
            op_text += f", … ({len(ops) - len(shown)} more)"
        rows = [
            ("format", r["format"]),
            ("producer", r["producer"]),
            ("opset", r["opset"]),
            ("nodes", f"{r['nodesBefore']} → {r['nodesAfter']} after normalisation"),
            ("ops", op_text),
            ("params", f"{r['params']:,}" + (" (quantised)" if r["quantised"] else "")),
            ("archHash", r["archHash"]),
            ("sha256", r["sha256"]),
            ("size", f"{r['sizeBytes']:,} bytes" + _external(r)),
        ]
        rows += [(key, value) for key, value in r["metadata"].items()]
        rows += [("warning", w) for w in r["warnings"]]
        emit(pd.DataFrame(rows, columns=["field", "value"]), fmt, title=r["path"])


def _external(r: dict[str, Any]) -> str:
    return f" + {r['externalDataBytes']:,} bytes of external data" if r["externalDataBytes"] else ""


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in r.items() if k not in ("ops", "metadata", "normalisation", "warnings")}
    flat["ops"] = ";".join(f"{op}={n}" for op, n in r["ops"].items())
    for key, value in r["metadata"].items():
        flat[key] = ";".join(value) if isinstance(value, list) else value
    flat["warnings"] = " | ".join(r["warnings"])
    return flat


def _flat_columns(records: list[dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for r in records:
        for key in _flat(r):
            if key not in columns:
                columns.append(key)
    return columns
