"""The audit: run every finding query of ``findings.yaml`` over the store with the license rules,
the task table and a policy as parameters, and report the findings (pandas → JSON, CSV, HTML).

Policy file (YAML; every key optional, unknown keys rejected; see ``docs/policy.example.yaml``)::

    families:
      allowed: [bert, resnet]        # identified families allowed (a variant counts as the family it
                                     # refines too); empty or absent: every family
      denied: [yolo]                 # families denied whatever ``allowed`` says
    licenses:
      allowed_categories: [permissive, copyleft]   # of licenses.yaml, plus "none" (no license
                                                   # declared); empty or absent: every category
      denied: [AGPL-3.0-only]        # license ids as stored (SPDX id, or hub id such as llama2)
    severity:                        # change a kind's severity (info, low, medium, high)
      task-mismatch: high
    ignore:                          # accepted findings: left out of the report (counted as ignored)
      - {kind: multi-family}
      - {kind: untraceable-license, hub_id: acme/tiny-chat-llama31}
    fail_on: high                    # the CLI's --fail-on default (info, low, medium, high, never)
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from modelgenes.cypher.catalog import get_query
from modelgenes.errors import ModelgenesError
from modelgenes.genealogy.licenses import NO_LICENSE, LicenseRules, load_rules
from modelgenes.genealogy.tasks import TaskTable, load_tasks
from modelgenes.kb.store import GraphStore

__all__ = [
    "NEVER",
    "AuditReport",
    "Finding",
    "FindingKind",
    "Policy",
    "PolicyError",
    "finding_kinds",
    "load_policy",
    "run_audit",
    "severities",
    "write_report",
]

NEVER = "never"  # --fail-on never: the audit never fails the command
CSV_COLUMNS = ("kind", "severity", "model", "name", "hub_id", "subject", "detail", "evidence", "action")
_POLICY_KEYS = {"families", "licenses", "severity", "ignore", "fail_on"}


class PolicyError(ModelgenesError):
    """A policy file that cannot be read or does not follow the documented format."""


# --------------------------------------------------------------------------------------------------
# Finding kinds
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FindingKind:
    name: str
    query: str
    severity: str
    description: str
    action: str


@cache
def _kinds_document() -> tuple[tuple[str, ...], tuple[FindingKind, ...]]:
    source = resources.files("modelgenes.report").joinpath("findings.yaml")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    levels = tuple(data["severities"])
    kinds = tuple(
        FindingKind(name, spec["query"], spec["severity"], spec["description"], spec["action"])
        for name, spec in data["kinds"].items()
    )
    return levels, kinds


def severities() -> tuple[str, ...]:
    """The severity levels, least severe first."""
    return _kinds_document()[0]


def finding_kinds() -> tuple[FindingKind, ...]:
    """Every kind of finding the audit reports, in ``findings.yaml`` order."""
    return _kinds_document()[1]


def _rank(severity: str) -> int:
    return severities().index(severity)


# --------------------------------------------------------------------------------------------------
# Policy
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IgnoreRule:
    kind: str
    hub_id: str | None = None
    model: str | None = None  # a sha256 or its prefix
    subject: str | None = None

    def covers(self, finding: Finding) -> bool:
        return (
            self.kind == finding.kind
            and (self.hub_id is None or self.hub_id in (finding.hub_id, finding.name))
            and (self.model is None or finding.model.startswith(self.model))
            and (self.subject is None or self.subject == finding.subject)
        )


@dataclass(frozen=True)
class Policy:
    allowed_families: tuple[str, ...] = ()
    denied_families: tuple[str, ...] = ()
    allowed_license_categories: tuple[str, ...] = ()
    denied_licenses: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    ignore: tuple[IgnoreRule, ...] = ()
    fail_on: str | None = None
    source: str | None = None  # the file it came from


def _names(value: Any, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PolicyError(f"policy {source}: {where} must be a list of names")
    return tuple(value)


def _section(data: Mapping[str, Any], key: str, allowed: set[str], source: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise PolicyError(f"policy {source}: {key} must be a mapping")
    unknown = set(value) - allowed
    if unknown:
        raise PolicyError(f"policy {source}: unknown key(s) in {key}: {', '.join(sorted(unknown))}")
    return value


def parse_policy(data: Any, source: str, *, families: Sequence[str] | None = None) -> Policy:
    """Check a loaded policy document; ``families`` (the known family names) catches typos."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise PolicyError(f"policy {source}: the document must be a mapping")
    unknown = set(data) - _POLICY_KEYS
    if unknown:
        raise PolicyError(
            f"policy {source}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_POLICY_KEYS))}"
        )
    fam = _section(data, "families", {"allowed", "denied"}, source)
    lic = _section(data, "licenses", {"allowed_categories", "denied"}, source)
    allowed_families = _names(fam.get("allowed"), "families.allowed", source)
    denied_families = _names(fam.get("denied"), "families.denied", source)
    if families is not None:
        strangers = sorted(set(allowed_families + denied_families) - set(families))
        if strangers:
            raise PolicyError(
                f"policy {source}: unknown famil{'y' if len(strangers) == 1 else 'ies'} "
                f"{', '.join(strangers)}; known: {', '.join(sorted(families))}"
            )
    rules = load_rules()
    categories = _names(lic.get("allowed_categories"), "licenses.allowed_categories", source)
    known_categories = (*rules.categories, NO_LICENSE)
    for c in categories:
        if c not in known_categories:
            raise PolicyError(
                f"policy {source}: license category {c!r} is not one of {', '.join(known_categories)}"
            )
    kinds = {k.name for k in finding_kinds()}
    severity = _section(data, "severity", kinds, source)
    for kind, level in severity.items():
        if level not in severities():
            raise PolicyError(f"policy {source}: severity of {kind} must be one of {', '.join(severities())}")
    ignore = []
    for i, item in enumerate(data.get("ignore") or []):
        if not isinstance(item, Mapping) or item.get("kind") not in kinds:
            raise PolicyError(f"policy {source}: ignore[{i}] needs a kind, one of {', '.join(sorted(kinds))}")
        extra = set(item) - {"kind", "hub_id", "model", "subject"}
        if extra:
            raise PolicyError(f"policy {source}: ignore[{i}]: unknown key(s) {', '.join(sorted(extra))}")
        ignore.append(
            IgnoreRule(str(item["kind"]), item.get("hub_id"), item.get("model"), item.get("subject"))
        )
    fail_on = data.get("fail_on")
    if fail_on is not None and fail_on not in (*severities(), NEVER):
        raise PolicyError(f"policy {source}: fail_on must be one of {', '.join((*severities(), NEVER))}")
    return Policy(
        allowed_families=allowed_families,
        denied_families=denied_families,
        allowed_license_categories=categories,
        denied_licenses=_names(lic.get("denied"), "licenses.denied", source),
        severity=dict(severity),
        ignore=tuple(ignore),
        fail_on=fail_on,
        source=source,
    )


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy file; ``PolicyError`` names the file and what is wrong."""
    from modelgenes.signatures.model import load_library

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PolicyError(f"policy {path}: cannot read: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise PolicyError(f"policy {path}: not valid YAML: {str(e).splitlines()[0]}") from e
    return parse_policy(data, str(path), families=list(load_library().families))


# --------------------------------------------------------------------------------------------------
# Findings and the report
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    model: str  # sha256
    name: str
    hub_id: str | None
    subject: str | None  # the ancestor, license, task or family concerned
    detail: str
    evidence: tuple[str, ...]
    action: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "model": self.model,
            "name": self.name,
            "hub_id": self.hub_id,
            "subject": self.subject,
            "detail": self.detail,
            "evidence": list(self.evidence),
            "action": self.action,
        }


@dataclass(frozen=True)
class AuditReport:
    findings: tuple[Finding, ...]
    models: int  # models audited
    ignored: int = 0  # findings the policy's ignore list left out
    policy: str | None = None
    generated_at: str = ""

    def summary(self) -> dict[str, Any]:
        by_kind = {k.name: 0 for k in finding_kinds()}
        by_severity = {s: 0 for s in reversed(severities())}
        for f in self.findings:
            by_kind[f.kind] += 1
            by_severity[f.severity] += 1
        return {
            "models": self.models,
            "findings": len(self.findings),
            "by_kind": by_kind,
            "by_severity": by_severity,
            "ignored": self.ignored,
            "policy": self.policy,
            "generated_at": self.generated_at,
        }

    def at_or_above(self, level: str) -> list[Finding]:
        """The findings of severity ``level`` or higher (none for ``never``)."""
        if level == NEVER:
            return []
        return [f for f in self.findings if _rank(f.severity) >= _rank(level)]

    def to_dict(self) -> dict[str, Any]:
        """``{"summary": {...}, "findings": [{kind, severity, model, name, hub_id, ...}]}``."""
        return {"summary": self.summary(), "findings": [f.as_dict() for f in self.findings]}

    def frame(self) -> pd.DataFrame:
        """One row per finding, columns ``CSV_COLUMNS`` (evidence as a list)."""
        return pd.DataFrame.from_records([f.as_dict() for f in self.findings], columns=list(CSV_COLUMNS))

    def summary_frame(self) -> pd.DataFrame:
        """One row per kind: kind, severity (default or the policy's), findings, description."""
        counts = self.frame().groupby("kind").size() if self.findings else pd.Series(dtype=int)
        severity_of = {f.kind: f.severity for f in self.findings}
        rows = [
            {
                "kind": k.name,
                "severity": severity_of.get(k.name, k.severity),
                "findings": int(counts.get(k.name, 0)),
                "description": k.description,
            }
            for k in finding_kinds()
        ]
        return pd.DataFrame.from_records(rows, columns=["kind", "severity", "findings", "description"])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        frame = self.frame()
        frame["evidence"] = frame["evidence"].map(lambda e: " | ".join(e))
        return str(frame.to_csv(index=False))

    def to_html(self) -> str:
        """One self-contained page (inline CSS, no scripts or external assets)."""
        return _html(self)


def _parameters(store: GraphStore, rules: LicenseRules, tasks: TaskTable, policy: Policy) -> dict[str, Any]:
    """Every value a finding query may declare, by parameter name."""
    declared = [r["license"] for r in _run(store, "license/licenses", {}) if r["license"] and r["models"]]
    return {
        "conflicts": rules.conflicts_param(declared),
        "licenses": rules.categories_param(declared),
        "publishers": rules.publishers_param(declared),
        "relations": list(rules.relations),
        "formatOnly": list(rules.format_only),
        "minConfidence": rules.min_confidence,
        "tasks": tasks.param(),
        "genericFamilies": list(tasks.generic_families),
        "allowed": list(policy.allowed_families),
        "denied": list(policy.denied_families),
        "allowedCategories": list(policy.allowed_license_categories),
        "deniedLicenses": list(policy.denied_licenses),
        "noLicense": NO_LICENSE,
    }


def _run(store: GraphStore, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = get_query(name)
    return store.query(query.text, params, name=query.name)


def run_audit(
    store: GraphStore,
    policy: Policy | None = None,
    *,
    rules: LicenseRules | None = None,
    now: datetime | None = None,
) -> AuditReport:
    """Run every finding query over ``store``; the report's findings are sorted most severe first."""
    policy = policy or Policy()
    rules = rules or load_rules()
    pool = _parameters(store, rules, load_tasks(), policy)
    findings: list[Finding] = []
    ignored = 0
    for kind in finding_kinds():
        query = get_query(kind.query)
        severity = policy.severity.get(kind.name, kind.severity)
        for row in store.query(query.text, {p.name: pool[p.name] for p in query.params}, name=query.name):
            subject = row.get("subject")
            finding = Finding(
                kind=kind.name,
                severity=severity,
                model=str(row["model"]),
                name=str(row.get("name") or ""),
                hub_id=row.get("hubId"),
                subject=None if subject is None else str(subject),
                detail=str(row.get("detail") or ""),
                evidence=tuple(str(e) for e in row.get("evidence") or ()),
                action=kind.action.format(subject=subject or row.get("hubId") or row.get("name")),
            )
            if any(rule.covers(finding) for rule in policy.ignore):
                ignored += 1
            else:
                findings.append(finding)
    findings.sort(key=lambda f: (-_rank(f.severity), f.kind, f.hub_id or f.name, f.subject or "", f.model))
    models = int(_run(store, "audit/models", {})[0]["models"])
    return AuditReport(
        findings=tuple(findings),
        models=models,
        ignored=ignored,
        policy=policy.source,
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )


def write_report(report: AuditReport, path: str | Path) -> Path:
    """Write the report as ``.json``, ``.csv`` or ``.html`` (by the file's suffix)."""
    path = Path(path)
    writers = {
        ".json": report.to_json,
        ".csv": report.to_csv,
        ".html": report.to_html,
        ".htm": report.to_html,
    }
    writer = writers.get(path.suffix.lower())
    if writer is None:
        raise ModelgenesError(f"{path}: cannot tell the report format; name the file .html, .csv or .json")
    try:
        path.write_text(writer(), encoding="utf-8")
    except OSError as e:
        raise ModelgenesError(f"{path}: cannot write the report: {e.strerror or e}") from e
    return path


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------
_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d2430; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #5b6472; margin-bottom: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { border: 1px solid #d5dae1; padding: .35rem .55rem; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td ol { margin: 0; padding-left: 1.2rem; } td code { font-size: 12px; }
.sev { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-weight: 600; font-size: 12px; }
.sev-high { background: #fbd5d5; color: #8a1c1c; } .sev-medium { background: #fde8c8; color: #7a4a00; }
.sev-low { background: #dfe9fb; color: #1f4a8a; } .sev-info { background: #e6e9ee; color: #3d4450; }
""".strip()


def _sev(level: str) -> str:
    return f'<span class="sev sev-{html.escape(level)}">{html.escape(level)}</span>'


def _html(report: AuditReport) -> str:
    summary = report.summary()
    kinds = report.summary_frame()
    kinds["severity"] = kinds["severity"].map(_sev)
    for col in ("kind", "description"):
        kinds[col] = kinds[col].map(lambda v: html.escape(str(v)))
    kinds_html = kinds.to_html(index=False, escape=False, border=0)
    if report.findings:
        frame = report.frame()
        shown = pd.DataFrame(
            {
                "severity": frame["severity"].map(_sev),
                "kind": frame["kind"].map(html.escape),
                "model": [
                    f"{html.escape(str(h or n))}<br><code>{html.escape(m[:12])}</code>"
                    for h, n, m in zip(frame["hub_id"], frame["name"], frame["model"], strict=True)
                ],
                "finding": frame["detail"].map(html.escape),
                "evidence": frame["evidence"].map(
                    lambda ev: "<ol>" + "".join(f"<li>{html.escape(e)}</li>" for e in ev) + "</ol>"
                ),
                "suggested action": frame["action"].map(html.escape),
            }
        )
        findings_html = shown.to_html(index=False, escape=False, border=0)
    else:
        findings_html = "<p>No findings.</p>"
    by_severity = ", ".join(f"{n} {s}" for s, n in summary["by_severity"].items() if n)
    policy = html.escape(summary["policy"] or "none (rules only)")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>modelgenes audit</title>
<style>
{_CSS}
</style>
</head>
<body>
<h1>modelgenes audit</h1>
<p class="meta">{summary["models"]} models audited · {summary["findings"]} findings{
        f" ({html.escape(by_severity)})" if by_severity else ""
    } · {summary["ignored"]} ignored by the policy · policy: {policy} · generated {
        html.escape(summary["generated_at"])
    }</p>
<h2>Summary</h2>
{kinds_html}
<h2>Findings</h2>
{findings_html}
</body>
</html>
"""
