"""``modelgenes eval CORPUS_DIR --labels labels.csv``: how well the library identifies a labelled corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit_records
from modelgenes.errors import ModelgenesError
from modelgenes.signatures.eval import evaluate


@app.command("eval")
def eval_command(
    corpus_dir: Annotated[Path, typer.Argument(help="Folder the label paths are relative to.")],
    labels: Annotated[Path, typer.Option("--labels", help="labels.csv: path,family,components,...")],
    fmt: FormatOption = OutputFormat.table,
    min_top1: Annotated[
        float | None, typer.Option("--min-top1", help="Fail below this top-1 accuracy.")
    ] = None,
    min_precision: Annotated[
        float | None, typer.Option("--min-precision", help="Fail below this precision of family claims.")
    ] = None,
    max_none_claims: Annotated[
        int | None, typer.Option("--max-none-claims", help="Fail above this many claims on 'none' models.")
    ] = None,
) -> None:
    """Identify every labelled model and print top-1 accuracy, precision, per-family recall and precision,
    the confusion matrix and every wrong answer. Exits 1 when a given threshold is not met."""
    report = evaluate(corpus_dir, labels)
    summary = report.summary()
    confusion = {exp: dict(c) for exp, c in sorted(report.confusion().items())}
    wrong = [
        {
            "path": r.path,
            "expected": r.expected,
            "predicted": r.predicted,
            "claims": list(r.claims),
            "false_claims": list(r.false_claims),
            "error": r.error,
        }
        for r in report.results
        if not r.correct or r.false_claims
    ]
    if fmt is OutputFormat.json:
        out = {"summary": summary, "families": report.per_family(), "confusion": confusion, "wrong": wrong}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        emit_records([summary], fmt, title="eval")
        emit_records(report.per_family(), fmt, title="per family")
        emit_records(
            [{"expected": e, "predicted": dict(sorted(c.items()))} for e, c in confusion.items()],
            fmt,
            title="confusion (expected → predicted top-1)",
        )
        if wrong:
            emit_records(wrong, fmt, title="wrong answers")
    failures = []
    if min_top1 is not None and report.top1 < min_top1:
        failures.append(f"top-1 {report.top1:.4f} < {min_top1}")
    if min_precision is not None and report.precision < min_precision:
        failures.append(f"precision {report.precision:.4f} < {min_precision}")
    if max_none_claims is not None and report.none_claims > max_none_claims:
        failures.append(f"{report.none_claims} claims on 'none' models > {max_none_claims}")
    if failures:
        raise ModelgenesError("eval thresholds not met: " + "; ".join(failures))
