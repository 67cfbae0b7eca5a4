"""How every command prints data: one ``OutputFormat`` option and one ``emit`` function."""

from __future__ import annotations

import json
import math
import re
import sys
from enum import StrEnum
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

__all__ = ["FormatOption", "OutputFormat", "emit", "emit_records"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="How to print the result: table, json or csv.")
]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars inside DataFrames
        return value.item()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def emit(frame: pd.DataFrame, fmt: OutputFormat, title: str | None = None) -> None:
    """Print a DataFrame as a rich table, a JSON list of row objects, or CSV."""
    if fmt is OutputFormat.json:
        rows = frame.to_dict(orient="records")
        sys.stdout.write(json.dumps(rows, default=_json_default, ensure_ascii=False, indent=2) + "\n")
    elif fmt is OutputFormat.csv:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        table = Table(title=title, show_lines=False)
        for col in frame.columns:
            table.add_column(str(col))
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        Console(width=200).print(table)


def emit_records(records: list[dict[str, Any]], fmt: OutputFormat, title: str | None = None) -> None:
    """Print structured records: JSON keeps nesting as is; table and CSV flatten via pandas."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(records, default=_json_default, ensure_ascii=False, indent=2) + "\n")
        return
    emit(pd.DataFrame.from_records(records), fmt, title)


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if value is None or (isinstance(value, float) and math.isnan(value)):  # pandas fills gaps with NaN
        return ""
    text = str(value)
    # Tables show a sha256 id by its first 12 digits (enough to name it on the command line);
    # json and csv keep the whole id.
    return text[:12] if _SHA256.fullmatch(text) else text
