"""Reports built from the knowledge base: the compliance audit and the CycloneDX ML-BOM export."""

from modelgenes.report.audit import AuditReport, Finding, Policy, load_policy, run_audit, write_report
from modelgenes.report.cyclonedx import export_cyclonedx

__all__ = ["AuditReport", "Finding", "Policy", "export_cyclonedx", "load_policy", "run_audit", "write_report"]
