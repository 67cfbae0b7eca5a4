"""``modelgenes identify MODEL... [--format table|json] [--explain SIGNATURE]``: name a model's families."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit_records
from modelgenes.errors import ModelgenesError
from modelgenes.signatures.match import GraphIndex, explain
from modelgenes.signatures.model import load_library
from modelgenes.signatures.score import identify as identify_graph


@app.command("identify")
def identify(
    models: Annotated[list[Path], typer.Argument(help="Model files to identify.")],
    fmt: FormatOption = OutputFormat.table,
    explain_id: Annotated[
        str | None,
        typer.Option(
            "--explain", help="Say why this signature (id, '@version' optional) did or did not match."
        ),
    ] = None,
) -> None:
    """Identify architecture families, components (in data-flow order) and signatures of model files.

    A family is named only when its specific signatures score above the library threshold; otherwise the
    model is reported as unknown. A file that cannot be read is reported on stderr and the others go on;
    the exit code is then 1.
    """
    from modelgenes.ingest.formats import read_model

    library = load_library()
    wanted = library.get(explain_id) if explain_id else None
    err = Console(stderr=True)
    records: list[dict[str, object]] = []
    failed = 0
    for path in models:
        try:
            graph, _ = read_model(path)
        except ModelgenesError as e:
            failed += 1
            err.print(f"[bold red]error:[/] {' '.join(str(e).split())}", highlight=False, soft_wrap=True)
            continue
        index = GraphIndex(graph)
        found = identify_graph(index, library)
        record = found.to_json(str(path))
        if wanted is not None:
            record["explain"] = explain(index, wanted).lines()
        records.append(record)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    else:
        emit_records([_flat(r) for r in records], fmt, title="identify")
        if wanted is not None and fmt is OutputFormat.table:
            for r in records:
                typer.echo(f"{r['path']}:")
                for line in r["explain"]:  # type: ignore[attr-defined]
                    typer.echo(f"  {line}")
    if failed:
        raise ModelgenesError(f"{failed} of {len(models)} file(s) could not be read (see above)")


def _flat(record: dict[str, object]) -> dict[str, object]:
    families = record["families"]
    components = record["components"]
    assert isinstance(families, list) and isinstance(components, list)
    return {
        "path": record["path"],
        "families": [f"{f['name']} ({f['score']:.2f})" for f in families] or ["unknown"],
        "components": " → ".join(c["family"] for c in components),
        "signatures": record["signatures"],
    }
