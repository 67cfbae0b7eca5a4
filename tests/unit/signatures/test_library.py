"""The library guards itself: schema, lint (ids, descriptions, samples), and every signature's proof."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from modelgenes.signatures.model import SCHEMA_FILE, load_library, signature_files
from modelgenes.signatures.proof import KNOWN_MISS, check_signature

LIBRARY = load_library()
SCHEMA = json.loads(SCHEMA_FILE.read_text())


@pytest.mark.parametrize("path", signature_files(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_signature_file_matches_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_signature_ids_are_unique_and_described_and_carry_samples() -> None:
    ids = [s.id for s in LIBRARY.signatures]
    assert len(ids) == len(set(ids))
    for sig in LIBRARY.signatures:
        assert sig.description.strip(), sig.id
        assert sig.samples.positive, f"{sig.id} has no positive sample"
        assert sig.samples.negative, f"{sig.id} has no negative sample"


def test_every_family_has_a_specific_signature_and_a_modality() -> None:
    specific = {s.family for s in LIBRARY.signatures if not s.is_broad}
    assert set(LIBRARY.families) <= specific
    assert len(LIBRARY.families) >= 25


_CASES = [
    (sig, kind, subject)
    for sig in LIBRARY.signatures
    for kind, subject in (
        [("positive", n) for n in sig.samples.positive]
        + [("negative", n) for n in sig.samples.negative]
        + [(KNOWN_MISS, n) for n in sig.samples.known_miss]
    )
]


@pytest.mark.parametrize(("sig", "kind", "subject"), _CASES, ids=[f"{s.id}-{k}-{n}" for s, k, n in _CASES])
def test_signature_sample(sig, kind: str, subject: str) -> None:  # type: ignore[no-untyped-def]
    checks = [c for c in check_signature(sig, corpus_dir=None) if c.kind == kind and c.subject == subject]
    assert checks
    if kind == KNOWN_MISS and checks[0].passed:
        pytest.xfail(f"known miss: {checks[0].detail}")
    assert checks[0].passed, checks[0].detail
