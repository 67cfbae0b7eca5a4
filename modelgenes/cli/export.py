"""``modelgenes export --format cyclonedx (MODEL | --all) [--out FILE]``: an ML-BOM of stored models."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelgenes.cli.app import app
from modelgenes.cli.state import state_of
from modelgenes.errors import ModelgenesError
from modelgenes.kb.connect import open_store
from modelgenes.kb.lookup import resolve_model
from modelgenes.report.cyclonedx import bom_json, build_bom


class ExportFormat(StrEnum):
    cyclonedx = "cyclonedx"


@app.command("export")
def export_command(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Argument(help="A model: path, sha256 prefix, hub id or name (or --all).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Export every stored model.")] = False,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="The export format: cyclonedx (1.6 JSON).")
    ] = ExportFormat.cyclonedx,
    out: Annotated[Path | None, typer.Option(help="Write to FILE (default: standard output).")] = None,
) -> None:
    """Export models as a CycloneDX 1.6 ML-BOM: one machine-learning-model component per model with
    its model card, licenses, families and pedigree (ancestors along the lineage, each with the
    relation, source, confidence and evidence of its edges), checked against the CycloneDX schema."""
    if (model is None) == (not all_):
        raise ModelgenesError("give one MODEL or --all")
    with open_store(state_of(ctx).store) as store:
        ids = None if all_ else [resolve_model(store, str(model))]
        document = build_bom(store, ids)
    text = bom_json(document)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ModelgenesError(f"{out}: cannot write the BOM: {e.strerror or e}") from e
    count = len(document.get("components", []))
    Console(stderr=True).print(
        f"wrote {out} ({fmt.value}: {count} model(s) with their pedigree)", highlight=False
    )
