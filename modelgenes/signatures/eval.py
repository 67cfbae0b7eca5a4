"""Evaluation of the library on a labelled corpus: top-1 accuracy, precision, recall, false claims.

``labels.csv`` has the columns ``path,family,architecture,components,...``; ``family`` is the expected
top-1 family (``none`` for models of no library family, which must come back ``unknown``);
``components`` lists every family the model contains (``resnet>lstm``). A claimed family is correct
when it is the labelled family or one of the labelled components. Paths ``onnx-light:<file>`` name a
graph of the installed onnx package's ``backend/test/data/light`` folder.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.model import Library, load_library
from modelgenes.signatures.score import identify

__all__ = ["NONE", "EvalReport", "ModelResult", "evaluate", "read_labels", "resolve_corpus_path"]

NONE = "none"
UNKNOWN = "unknown"
ERROR = "error"
ONNX_LIGHT = "onnx-light:"


@dataclass(frozen=True)
class LabelRow:
    path: str
    family: str
    components: tuple[str, ...]


@dataclass(frozen=True)
class ModelResult:
    """One corpus model: what it is labelled, what we said."""

    path: str
    expected: str
    predicted: str  # top-1 family, ``unknown``, or ``error``
    claims: tuple[str, ...]
    false_claims: tuple[str, ...]
    error: str = ""

    @property
    def correct(self) -> bool:
        return self.predicted == (UNKNOWN if self.expected == NONE else self.expected)


@dataclass
class EvalReport:
    """The whole run: per-model results and the figures derived from them."""

    results: list[ModelResult] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return sum(r.correct for r in self.results) / len(self.results) if self.results else 0.0

    @property
    def claims(self) -> int:
        return sum(len(r.claims) for r in self.results)

    @property
    def false_claims(self) -> int:
        return sum(len(r.false_claims) for r in self.results)

    @property
    def precision(self) -> float:
        """Correct family claims over all family claims (1.0 when nothing was claimed)."""
        return 1.0 - self.false_claims / self.claims if self.claims else 1.0

    @property
    def none_claims(self) -> int:
        """Family claims made on models labelled ``none``."""
        return sum(len(r.claims) for r in self.results if r.expected == NONE)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.predicted == ERROR)

    def confusion(self) -> dict[str, Counter[str]]:
        """expected family → Counter of predicted top-1 (``unknown`` for none)."""
        out: dict[str, Counter[str]] = {}
        for r in self.results:
            out.setdefault(r.expected, Counter())[r.predicted] += 1
        return out

    def per_family(self) -> list[dict[str, object]]:
        """Per family: models, recall (top-1 right), claims, precision of its claims."""
        families = sorted({r.expected for r in self.results} - {NONE})
        rows = []
        for fam in families:
            labelled = [r for r in self.results if r.expected == fam]
            claimed = [r for r in self.results if fam in r.claims]
            wrong = [r for r in claimed if fam in r.false_claims]
            rows.append(
                {
                    "family": fam,
                    "models": len(labelled),
                    "recall": round(sum(r.correct for r in labelled) / len(labelled), 4),
                    "claims": len(claimed),
                    "precision": round(1 - len(wrong) / len(claimed), 4) if claimed else 1.0,
                }
            )
        return rows

    def summary(self) -> dict[str, object]:
        return {
            "models": len(self.results),
            "top1": round(self.top1, 4),
            "precision": round(self.precision, 4),
            "claims": self.claims,
            "false_claims": self.false_claims,
            "none_claims": self.none_claims,
            "errors": self.errors,
        }


def read_labels(path: str | Path) -> list[LabelRow]:
    """The rows of a labels.csv (``path``, ``family``, ``components`` columns are required)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise ModelgenesError(f"{path}: cannot read labels: {e.strerror or e}") from e
    if rows and not {"path", "family"} <= set(rows[0]):
        raise ModelgenesError(f"{path}: labels need the columns path and family")
    out = []
    for row in rows:
        comps = tuple(c for c in (row.get("components") or "").split(">") if c)
        out.append(LabelRow(row["path"], row["family"], comps))
    return out


def resolve_corpus_path(corpus_dir: str | Path, path: str) -> Path:
    """A label path as a file: relative to the corpus folder, or inside the onnx package (onnx-light:)."""
    if path.startswith(ONNX_LIGHT):
        import onnx

        return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / path[len(ONNX_LIGHT) :]
    return Path(corpus_dir) / path


def _read(path: Path) -> ModelGraph:
    from modelgenes.ingest.formats import read_model

    return read_model(path)[0]


def evaluate(
    corpus_dir: str | Path,
    labels: str | Path,
    library: Library | None = None,
    reader: Callable[[Path], ModelGraph] = _read,
) -> EvalReport:
    """Identify every labelled model; unreadable files count as wrong (``error``), never stop the run."""
    library = library or load_library()
    report = EvalReport()
    for row in read_labels(labels):
        allowed = set(row.components) | ({row.family} if row.family != NONE else set())
        try:
            graph = reader(resolve_corpus_path(corpus_dir, row.path))
        except ModelgenesError as e:
            report.results.append(ModelResult(row.path, row.family, ERROR, (), (), str(e)))
            continue
        found = identify(graph, library)
        claims = tuple(f.name for f in found.families)
        report.results.append(
            ModelResult(
                row.path,
                row.family,
                found.top or UNKNOWN,
                claims,
                tuple(c for c in claims if c not in allowed),
            )
        )
    return report
