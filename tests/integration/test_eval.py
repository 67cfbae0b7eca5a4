"""The library on the whole labelled corpus: beats the published figures of signature-based identification."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgenes.signatures.eval import evaluate

ZOO = Path(__file__).resolve().parents[1] / "data" / "zoo"


@pytest.mark.skipif(not (ZOO / "labels.csv").exists(), reason="labelled corpus not built")
def test_eval_on_the_labelled_corpus_meets_the_thresholds() -> None:
    report = evaluate(ZOO, ZOO / "labels.csv")
    wrong = [(r.path, r.expected, r.predicted, r.false_claims) for r in report.results if not r.correct]
    assert len(report.results) >= 150
    assert report.none_claims == 0, [r for r in report.results if r.expected == "none" and r.claims]
    assert report.precision >= 0.995, [r for r in report.results if r.false_claims]
    assert report.top1 >= 0.98, wrong
