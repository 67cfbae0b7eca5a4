"""``modelgenes audit`` over the fixture KB (tests/data/hub): every expected finding and no other,
policies, the report formats, and a golden JSON of ``audit --format json``.

Refresh the golden file after an intended change (new samples, rules, signatures) with:

    MODELGENES_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration/report/test_audit.py
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelgenes.cli.app import app
from modelgenes.cypher.catalog import get_query
from modelgenes.errors import ModelgenesError
from modelgenes.report.audit import (
    AuditReport,
    Policy,
    PolicyError,
    finding_kinds,
    load_policy,
    parse_policy,
    run_audit,
    severities,
    write_report,
)
from tests.integration.report.conftest import HubKB
from tests.support.golden import assert_matches_golden

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden" / "audit.json"

# The findings the fixture samples were built to produce (scripts/build_hub_samples.py).
EXPECTED = {
    ("license-conflict", "acme/gpt2-tiny-chat"),  # MIT fine-tune of a CC-BY-NC-4.0 base
    ("license-conflict", "acme/gpt2-tiny-chat-int8"),  # its quantised copy, still MIT
    ("untraceable-license", "acme/tiny-chat-llama31"),  # llama3.1, no lineage to Meta
    ("task-mismatch", "acme/resnet-tiny-textgen"),  # a ResNet declared text-generation
    ("unknown-genealogy", "acme/mystery-regressor"),  # an MLP: no family, no base
    ("multi-family", "acme/crnn-ocr-tiny"),  # ResNet-style CNN feeding an LSTM
}
# Base samples declaring no base model: of unknown genealogy exactly while the signature library
# identifies no family in them (the tiny BERT/BART exports depend on the library's coverage).
LEGACY_ROOTS = ("google/bert-tiny", "facebook/bart-tiny")


def _pairs(report: AuditReport) -> set[tuple[str, str | None]]:
    return {(f.kind, f.hub_id) for f in report.findings}


def _unidentified(kb: HubKB, hub_id: str) -> bool:
    query = get_query("explore/model_summary")
    model = kb.store.query(get_query("explore/find_model").text, {"ref": hub_id}, name="find")[0]["model"]
    return not kb.store.query(query.text, {"model": model}, name=query.name)[0]["families"]


def _expected(kb: HubKB) -> set[tuple[str, str | None]]:
    return EXPECTED | {("unknown-genealogy", h) for h in LEGACY_ROOTS if _unidentified(kb, h)}


# -- findings -------------------------------------------------------------------------------------------
def test_each_expected_finding_and_no_other(hub_kb: HubKB) -> None:
    report = run_audit(hub_kb.store)
    assert _pairs(report) == _expected(hub_kb)
    assert report.models == 13


def test_conflict_evidence_is_the_chain_of_models_and_edges(hub_kb: HubKB) -> None:
    report = run_audit(hub_kb.store)
    (finding,) = [f for f in report.findings if f.hub_id == "acme/gpt2-tiny-chat-int8"]
    assert finding.severity == "high" and finding.subject == "research-lab/gpt2-tiny-nc"
    assert finding.evidence == (
        "acme/gpt2-tiny-chat-int8 declares MIT (permissive)",
        "acme/gpt2-tiny-chat-int8 --quantized (declared, 90%)--> acme/gpt2-tiny-chat",
        "acme/gpt2-tiny-chat --finetune (declared, 90%)--> research-lab/gpt2-tiny-nc",
        "research-lab/gpt2-tiny-nc declares CC-BY-NC-4.0 (non-commercial): "
        "a derivative must keep non-commercial",
    )
    assert "non-commercial" in finding.detail and "research-lab/gpt2-tiny-nc" in finding.action


def test_a_publisher_license_with_lineage_to_the_publisher_is_not_flagged(hub_kb: HubKB) -> None:
    report = run_audit(hub_kb.store)
    flagged = {f.hub_id for f in report.findings if f.kind == "untraceable-license"}
    assert flagged == {"acme/tiny-chat-llama31"}  # not meta-llama/llama-tiny nor its fine-tune
    (finding,) = [f for f in report.findings if f.kind == "untraceable-license"]
    assert finding.subject == "llama3.1"
    assert "no ancestor: no DERIVED_FROM edge to a stored model" in finding.evidence


def test_task_mismatch_names_the_task_and_the_identified_family(hub_kb: HubKB) -> None:
    (finding,) = [f for f in run_audit(hub_kb.store).findings if f.kind == "task-mismatch"]
    assert finding.subject == "text-generation"
    assert any("resnet (vision" in e for e in finding.evidence)


def test_license_nodes_carry_the_rules_after_ingest(hub_kb: HubKB) -> None:
    query = get_query("license/licenses")
    rows = {r["license"]: r for r in hub_kb.store.query(query.text, {}, name=query.name)}
    assert rows["CC-BY-NC-4.0"]["category"] == "non-commercial" and rows["CC-BY-NC-4.0"]["models"] == 1
    assert rows["llama3.1"]["publisher"] == "Meta" and rows["llama3.1"]["models"] == 3
    assert rows["gemma"]["category"] == "use-restricted" and rows["gemma"]["models"] == 0


# -- policies ---------------------------------------------------------------------------------------------
def test_a_policy_adds_architecture_and_license_findings(hub_kb: HubKB) -> None:
    policy = parse_policy(
        {
            "families": {"denied": ["lstm"]},
            "licenses": {"allowed_categories": ["permissive", "copyleft"], "denied": ["MIT"]},
        },
        "test",
    )
    pairs = _pairs(run_audit(hub_kb.store, policy))
    assert ("unexpected-architecture", "acme/crnn-ocr-tiny") in pairs
    not_allowed = {h for k, h in pairs if k == "license-not-allowed"}
    assert not_allowed == {
        "research-lab/gpt2-tiny-nc",  # non-commercial
        "meta-llama/llama-tiny",  # use-restricted
        "acme/llama-tiny-instruct",
        "acme/tiny-chat-llama31",
        "acme/gpt2-tiny-chat",  # MIT denied by id
        "acme/gpt2-tiny-chat-int8",
        "acme/mystery-regressor",
        "facebook/bart-tiny",
    }


def test_allowed_families_cover_their_variants_and_flag_the_rest(hub_kb: HubKB) -> None:
    policy = Policy(allowed_families=("gpt2", "llama", "resnet"))
    flagged = {(f.hub_id, f.subject) for f in run_audit(hub_kb.store, policy).findings}
    assert ("acme/crnn-ocr-tiny", "lstm") in flagged
    assert not any(subject in ("gpt2", "llama", "resnet") for _, subject in flagged)


def test_policy_severity_and_ignore_change_the_report(hub_kb: HubKB) -> None:
    policy = parse_policy(
        {
            "severity": {"task-mismatch": "high"},
            "ignore": [
                {"kind": "multi-family"},
                {"kind": "license-conflict", "hub_id": "acme/gpt2-tiny-chat"},
            ],
        },
        "test",
    )
    report = run_audit(hub_kb.store, policy)
    assert report.ignored == 2
    assert ("multi-family", "acme/crnn-ocr-tiny") not in _pairs(report)
    assert _pairs(report) >= {("license-conflict", "acme/gpt2-tiny-chat-int8")}
    assert {f.severity for f in report.findings if f.kind == "task-mismatch"} == {"high"}


def test_the_example_policy_loads() -> None:
    policy = load_policy(REPO / "docs" / "policy.example.yaml")
    assert policy.fail_on == "high" and "bert" in policy.allowed_families


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"families": {"allowed": ["bertt"]}}, "unknown family bertt"),
        ({"licenses": {"allowed_categories": ["free"]}}, "license category 'free'"),
        ({"severity": {"task-mismatch": "urgent"}}, "severity of task-mismatch"),
        ({"ignore": [{"hub_id": "x"}]}, r"ignore\[0\] needs a kind"),
        ({"fail_on": "sometimes"}, "fail_on must be one of"),
        ({"famlies": {}}, "unknown key"),
    ],
)
def test_a_bad_policy_is_rejected_with_the_reason(tmp_path: Path, document: Any, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(json.dumps(document))
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_every_finding_kind_names_a_query_and_a_severity() -> None:
    for kind in finding_kinds():
        query = get_query(kind.query)
        assert query.columns == ("model", "name", "hubId", "subject", "detail", "evidence"), kind.name
        assert kind.severity in severities() and kind.description and kind.action


# -- report formats ----------------------------------------------------------------------------------------
def test_json_report_has_summary_then_findings(hub_kb: HubKB, tmp_path: Path) -> None:
    report = run_audit(hub_kb.store)
    data = json.loads(write_report(report, tmp_path / "report.json").read_text())
    assert set(data) == {"summary", "findings"}
    summary = data["summary"]
    assert summary["models"] == 13 and summary["findings"] == len(data["findings"])
    assert set(summary["by_kind"]) == {k.name for k in finding_kinds()}
    assert sum(summary["by_kind"].values()) == sum(summary["by_severity"].values()) == summary["findings"]
    for finding in data["findings"]:
        assert {
            "kind",
            "severity",
            "model",
            "name",
            "hub_id",
            "subject",
            "detail",
            "evidence",
            "action",
        } == set(finding)
        assert isinstance(finding["evidence"], list) and finding["evidence"]
    ranks = [severities().index(f["severity"]) for f in data["findings"]]
    assert ranks == sorted(ranks, reverse=True)  # most severe first


def test_csv_report_has_one_row_per_finding(hub_kb: HubKB, tmp_path: Path) -> None:
    report = run_audit(hub_kb.store)
    rows = list(csv.DictReader(io.StringIO(write_report(report, tmp_path / "r.csv").read_text())))
    assert list(rows[0]) == [
        "kind",
        "severity",
        "model",
        "name",
        "hub_id",
        "subject",
        "detail",
        "evidence",
        "action",
    ]
    assert len(rows) == len(report.findings)
    int8 = next(r for r in rows if r["hub_id"] == "acme/gpt2-tiny-chat-int8")
    assert int8["evidence"].count(" | ") == 3


def test_html_report_is_one_self_contained_page(hub_kb: HubKB, tmp_path: Path) -> None:
    page = write_report(run_audit(hub_kb.store), tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=", page, re.IGNORECASE)
    assert "url(" not in page and "@import" not in page
    assert "acme/gpt2-tiny-chat-int8 --quantized (declared, 90%)--&gt; acme/gpt2-tiny-chat" in page
    assert page.count("<li>") == sum(len(f.evidence) for f in run_audit(hub_kb.store).findings)


def test_an_unknown_report_suffix_is_an_error(hub_kb: HubKB, tmp_path: Path) -> None:
    with pytest.raises(ModelgenesError, match=r"name the file \.html, \.csv or \.json"):
        write_report(run_audit(hub_kb.store), tmp_path / "report.pdf")


# -- the command ------------------------------------------------------------------------------------------
def _cli(kb: HubKB, *args: str) -> Any:
    return CliRunner().invoke(app, ["audit", *args], env={"MODELGENES_HOME": str(kb.home)})


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """The report without what changes from run to run: the time, the policy's path, model sha256s."""
    summary = {k: v for k, v in data["summary"].items() if k not in ("generated_at", "policy")}
    findings = [{k: v for k, v in f.items() if k != "model"} for f in data["findings"]]
    findings.sort(key=lambda f: (f["kind"], f["hub_id"] or f["name"], f["subject"] or ""))
    return {"summary": summary, "findings": findings}


def test_audit_json_matches_the_golden_file(hub_kb: HubKB) -> None:
    result = _cli(hub_kb, "--format", "json")
    assert result.exit_code == 0, result.output
    got = _normalised(json.loads(result.stdout))
    assert_matches_golden(GOLDEN, got)


def test_fail_on_sets_the_exit_code(hub_kb: HubKB, tmp_path: Path) -> None:
    assert _cli(hub_kb, "--format", "csv").exit_code == 0  # default: never fail
    failing = _cli(hub_kb, "--format", "csv", "--fail-on", "high")
    assert failing.exit_code == 3
    policy = tmp_path / "policy.yaml"
    policy.write_text("fail_on: high\nignore:\n  - {kind: license-conflict}\n")
    assert _cli(hub_kb, "--format", "csv", "--policy", str(policy)).exit_code == 0
    assert _cli(hub_kb, "--format", "csv", "--policy", str(policy), "--fail-on", "low").exit_code == 3


def test_audit_table_and_out_file(hub_kb: HubKB, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _cli(hub_kb, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "license-conflict" in result.stdout and "acme/tiny-chat-llama31" in result.stdout
    assert out.read_text().startswith("<!DOCTYPE html>")
    bad = _cli(hub_kb, "--fail-on", "sometimes")
    assert bad.exit_code != 0 and "--fail-on must be one of" in str(bad.exception)
