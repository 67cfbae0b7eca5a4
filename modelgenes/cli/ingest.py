"""``modelgenes ingest PATH... [--manifest FILE] [--workers N] [--batch-name NAME]``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit_records
from modelgenes.cli.state import state_of
from modelgenes.errors import ModelgenesError
from modelgenes.kb.batch import IngestReport, ingest_paths
from modelgenes.kb.connect import open_store

_PHASES = {"hash": "hashing files", "extract": "reading and identifying"}


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Model files and folders (walked for models).")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="CSV or JSONL with one row per model (path, hub_id, publisher, license, ...)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Worker processes for reading models (default: CPU count).", min=1)
    ] = os.cpu_count() or 1,
    batch_name: Annotated[
        str | None, typer.Option(help="Name of the batch (reuse it to resume a killed run).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Read model files, identify them and store everything in the knowledge base.

    Files already stored (same sha256) are reported unchanged and not written again; a file that cannot
    be read is recorded as an IngestError of the batch and the batch goes on; the exit code is 1 when
    any file failed.
    """
    from modelgenes.ingest.metadata import read_manifest

    rows = read_manifest(manifest) if manifest else {}
    targets: list[Path] = list(paths or [])
    if not targets:
        if not rows:
            raise ModelgenesError(
                "nothing to ingest: give model files or folders, or a --manifest with paths"
            )
        targets = sorted(rows)
    with open_store(state_of(ctx).store) as store, _progress() as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        report = ingest_paths(
            store, targets, manifest=rows, workers=workers, batch_name=batch_name, progress=on_progress
        )
    _summarise(report, fmt)
    if not report.ok:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )


def _summarise(report: IngestReport, fmt: OutputFormat) -> None:
    summary: dict[str, object] = {
        "batch": report.batch_id,
        "files": report.files,
        "new": report.new,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "declared_links": report.derived_links,
        "inferred_links": report.inferred_links,
        "seconds": round(report.seconds, 2),
    }
    if fmt is OutputFormat.json:
        summary["failures"] = [
            {"path": f.path, "kind": f.kind, "message": f.message} for f in report.failures
        ]
        emit_records([summary], fmt)
        return
    emit_records([summary], fmt, title="ingest summary")
    err = Console(stderr=True)
    for f in report.failures:
        err.print(f"[red]failed[/] {f.kind}: {' '.join(f.message.split())}", highlight=False, soft_wrap=True)
