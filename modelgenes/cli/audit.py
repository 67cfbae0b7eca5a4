"""``modelgenes audit [--policy FILE] [--out FILE] [--format table|json|csv] [--fail-on LEVEL]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit
from modelgenes.cli.state import state_of
from modelgenes.errors import ModelgenesError
from modelgenes.kb.connect import open_store
from modelgenes.report.audit import NEVER, AuditReport, load_policy, run_audit, severities, write_report

# Exit code when findings at or above --fail-on exist (1 is any error, 2 an internal error).
FINDINGS_EXIT_CODE = 3


@app.command("audit")
def audit_command(
    ctx: typer.Context,
    policy: Annotated[
        Path | None,
        typer.Option(help="Policy file (YAML): allowed/denied families and licenses, severities, ignores."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write the whole report to FILE: report.html, report.csv or report.json."),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit with code 3 when a finding of this severity or higher exists: info, low, medium, "
            "high or never (default: the policy's fail_on, else never).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Audit the knowledge base: license conflicts along the lineage, untraceable publisher licenses,
    unknown genealogy, task mismatches, architectures and licenses against a policy, multi-family models.

    Prints a summary per kind, then every finding with its evidence chain and a suggested action;
    json prints the whole report, csv one row per finding.
    """
    levels = (*severities(), NEVER)
    if fail_on is not None and fail_on not in levels:
        raise ModelgenesError(f"--fail-on must be one of {', '.join(levels)}, not {fail_on!r}")
    loaded = load_policy(policy) if policy else None
    with open_store(state_of(ctx).store) as store:
        report = run_audit(store, loaded)
    if out is not None:
        write_report(report, out)
    _print(report, fmt)
    if out is not None:
        Console(stderr=True).print(f"wrote {out}", highlight=False)
    level = fail_on or (loaded.fail_on if loaded else None) or NEVER
    failing = report.at_or_above(level)
    if failing:
        Console(stderr=True).print(
            f"[bold red]{len(failing)} finding(s) at or above severity {level}[/]", highlight=False
        )
        raise typer.Exit(FINDINGS_EXIT_CODE)


def _print(report: AuditReport, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        sys.stdout.write(report.to_json())
        return
    if fmt is OutputFormat.csv:
        sys.stdout.write(report.to_csv())
        return
    summary = report.summary()
    emit(report.summary_frame(), fmt, title=f"audit of {summary['models']} models")
    if report.findings:
        frame = report.frame()
        shown = pd.DataFrame(
            {
                "severity": frame["severity"],
                "kind": frame["kind"],
                "model": [h or n for h, n in zip(frame["hub_id"], frame["name"], strict=True)],
                "finding": frame["detail"],
                "evidence": frame["evidence"].map(lambda ev: "\n".join(ev)),
                "action": frame["action"],
            }
        )
        emit(shown, fmt, title=f"{summary['findings']} findings ({summary['ignored']} ignored by the policy)")
    else:
        typer.echo("no findings")
