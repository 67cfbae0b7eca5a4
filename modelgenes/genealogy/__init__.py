"""Genealogy: what a model is made of and where it comes from.

``record`` (the stored view of one model and ``extract``, the pure path → record function),
``weights`` (per-tensor weight sketches), ``derivation`` (DERIVED_FROM claims from weights and
structure), ``licenses`` and ``tasks`` (license rules and task → modality table, as data).
"""

from modelgenes.genealogy.derivation import DerivationEdge
from modelgenes.genealogy.licenses import LicenseRules, load_rules
from modelgenes.genealogy.record import ModelRecord, extract
from modelgenes.genealogy.tasks import TaskTable, load_tasks
from modelgenes.genealogy.weights import WeightSketch, sketch_weights

__all__ = [
    "DerivationEdge",
    "LicenseRules",
    "ModelRecord",
    "TaskTable",
    "WeightSketch",
    "extract",
    "load_rules",
    "load_tasks",
    "sketch_weights",
]
