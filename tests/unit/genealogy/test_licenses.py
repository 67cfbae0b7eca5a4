"""License rules (modelgenes/genealogy/licenses.yaml) and tasks (tasks.yaml): the files follow their
format, every rule's id is what ingest stores for the hub's spelling, and the rules answer the audit's
questions as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelgenes.genealogy.licenses import LicenseRulesError, load_rules, parse_rules
from modelgenes.genealogy.tasks import TaskTableError, load_tasks, parse_tasks
from modelgenes.ingest.license_ids import license_ids

RULES = load_rules()
PACKAGED = Path(__file__).resolve().parents[3] / "modelgenes" / "genealogy" / "licenses.yaml"

# The hub's common license ids (as cards write them) and the category each must get.
HUB_CATEGORIES = {
    "apache-2.0": "permissive",
    "mit": "permissive",
    "bsd-2-clause": "permissive",
    "bsd-3-clause": "permissive",
    "bsd-3-clause-clear": "permissive",
    "cc-by-4.0": "permissive",
    "cc0-1.0": "permissive",
    "cc-by-sa-4.0": "copyleft",
    "gpl-3.0": "copyleft",
    "agpl-3.0": "copyleft",
    "lgpl-3.0": "copyleft",
    "cc-by-nc-4.0": "non-commercial",
    "cc-by-nc-sa-4.0": "non-commercial",
    "cc-by-nc-nd-4.0": "non-commercial",
    "openrail": "use-restricted",
    "openrail++": "use-restricted",
    "creativeml-openrail-m": "use-restricted",
    "bigscience-openrail-m": "use-restricted",
    "bigscience-bloom-rail-1.0": "use-restricted",
    "llama2": "use-restricted",
    "llama3": "use-restricted",
    "llama3.1": "use-restricted",
    "llama3.2": "use-restricted",
    "llama3.3": "use-restricted",
    "gemma": "use-restricted",
    "other": "unknown",
    "unknown": "unknown",
}


def _document() -> dict[str, Any]:
    data = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# -- the file -----------------------------------------------------------------------------------------
def test_every_rule_is_keyed_by_the_id_ingest_stores_for_its_hub_spelling() -> None:
    for license_id, rule in RULES.licenses.items():
        assert license_ids(rule.hub or license_id) == license_id, license_id


@pytest.mark.parametrize(("hub_id", "category"), sorted(HUB_CATEGORIES.items()))
def test_common_hub_licenses_have_their_category(hub_id: str, category: str) -> None:
    stored = license_ids(hub_id)
    assert RULES.licenses[stored].category == category
    assert RULES.category(stored) == category


def test_categories_are_ordered_from_least_to_most_restrictive() -> None:
    ranks = [RULES.rank(c) for c in ("permissive", "copyleft", "use-restricted", "non-commercial", "unknown")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 5


def test_publisher_specific_licenses_name_their_publisher_and_its_hub_orgs() -> None:
    for hub_id in ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3"):
        (meta,) = RULES.rule(hub_id).publishers
        assert meta.name == "Meta" and meta.publishes("meta-llama/Llama-3.1-8B")
    (google,) = RULES.rule("gemma").publishers
    assert google.name == "Google" and google.publishes("google") and not google.publishes("acme/x")
    assert RULES.rule("Apache-2.0").publishers == ()


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda d: d["licenses"]["MIT"].update(category="libre"), "category 'libre'"),
        (lambda d: d["licenses"]["MIT"].update(keep=["karma"]), "unknown obligation 'karma'"),
        (lambda d: d["licenses"]["gemma"].update(publisher="nobody"), "unknown publisher 'nobody'"),
        (lambda d: d["licenses"]["MIT"].update(colour="blue"), "unknown key"),
        (lambda d: d["licenses"]["MIT"].update(same_license=["Apache-2.0"]), "without the share-alike"),
        (lambda d: d["licenses"]["GPL-3.0-only"].update(same_license=["nope"]), "which no rule lists"),
        (lambda d: d["lineage"].update(min_confidence=3), "min_confidence"),
        (lambda d: d.pop("publishers"), "top-level keys"),
    ],
)
def test_a_malformed_rules_file_is_rejected_with_the_reason(mutation: Any, message: str) -> None:
    data = _document()
    mutation(data)
    with pytest.raises(LicenseRulesError, match=message):
        parse_rules(data, "test.yaml")


def test_a_rules_file_can_be_loaded_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(PACKAGED.read_text(encoding="utf-8"))
    assert load_rules(path).licenses.keys() == RULES.licenses.keys()
    path.write_text("licenses: [")
    with pytest.raises(LicenseRulesError, match="cannot read"):
        load_rules(path)


# -- the rules ----------------------------------------------------------------------------------------
def test_apache_is_permissive_and_an_unlisted_id_is_unknown() -> None:
    assert RULES.category("Apache-2.0") == "permissive"
    assert RULES.category("acme-custom-license") == "unknown"
    assert not RULES.rule("acme-custom-license").known
    assert RULES.category(None) == "none"


def test_a_non_commercial_base_relicensed_mit_is_a_conflict() -> None:
    assert RULES.dropped("CC-BY-NC-4.0", "MIT") == ("non-commercial",)
    assert RULES.dropped("CC-BY-NC-4.0", "other") == ("non-commercial",)
    assert RULES.dropped("CC-BY-NC-4.0", "CC-BY-NC-4.0") == ()
    assert RULES.dropped("CC-BY-NC-4.0", "CC-BY-NC-SA-4.0") == ()


def test_permissive_to_permissive_is_no_conflict() -> None:
    assert RULES.dropped("Apache-2.0", "MIT") == ()
    assert RULES.dropped("MIT", "Apache-2.0") == ()
    assert RULES.dropped("MIT", "CC-BY-NC-4.0") == ()  # adding a restriction is allowed


def test_copyleft_must_keep_its_license_or_a_listed_compatible_one() -> None:
    assert RULES.dropped("GPL-3.0-only", "MIT") == ("share-alike",)
    assert RULES.dropped("GPL-3.0-only", "GPL-3.0-or-later") == ()
    assert RULES.dropped("CC-BY-SA-4.0", "Apache-2.0") == ("share-alike",)


def test_use_restricted_licenses_pass_their_restrictions_on() -> None:
    assert RULES.dropped("openrail", "Apache-2.0") == ("use-restrictions",)
    assert RULES.dropped("openrail", "creativeml-openrail-m") == ()
    assert RULES.dropped("llama3.1", "Apache-2.0") == ("use-restrictions", "share-alike")
    assert RULES.dropped("llama3.1", "llama3.3") == ()
    assert RULES.dropped("gemma", "MIT") == ("use-restrictions", "share-alike")


def test_no_derivatives_allows_only_format_copies_under_the_same_license() -> None:
    assert RULES.dropped("CC-BY-NC-ND-4.0", "CC-BY-NC-ND-4.0") == ("no-derivatives",)
    assert RULES.dropped("CC-BY-NC-ND-4.0", "CC-BY-NC-ND-4.0", format_only=True) == ()
    assert RULES.dropped("CC-BY-NC-ND-4.0", "MIT", format_only=True) == ("non-commercial", "no-derivatives")


def test_expressions_combine_their_parts() -> None:
    either = RULES.rule("MIT OR CC-BY-NC-4.0")
    both = RULES.rule("MIT AND CC-BY-NC-4.0")
    assert (either.category, both.category) == ("permissive", "non-commercial")
    assert "non-commercial" not in either.keep and "non-commercial" in both.keep
    # A parent offering a permissive choice binds nothing; a child offering one drops the restriction.
    assert RULES.dropped("MIT OR CC-BY-NC-4.0", "MIT") == ()
    assert RULES.dropped("CC-BY-NC-4.0", "MIT OR CC-BY-NC-4.0") == ("non-commercial",)
    assert RULES.dropped("CC-BY-NC-4.0", "MIT AND CC-BY-NC-4.0") == ()
    assert [p.name for p in RULES.rule("llama3.1 AND MIT").publishers] == ["Meta"]
    assert RULES.rule("llama3.1 OR MIT").publishers == ()


def test_query_parameters_hold_only_what_the_queries_need() -> None:
    ids = ["CC-BY-NC-4.0", "MIT", "llama3.1"]
    conflicts = RULES.conflicts_param(ids)
    assert conflicts["CC-BY-NC-4.0|MIT"] == {"any": ["non-commercial"], "formatOnly": ["non-commercial"]}
    assert "MIT|CC-BY-NC-4.0" not in conflicts and "MIT|MIT" not in conflicts
    assert RULES.publishers_param(ids) == {
        "llama3.1": [{"name": "Meta", "orgs": ["meta-llama", "facebook", "facebookresearch"]}]
    }
    assert RULES.categories_param(["MIT"])["MIT"]["category"] == "permissive"
    rows = {r["id"]: r for r in RULES.license_rows(["MIT OR llama3.1"])}
    assert rows["MIT OR llama3.1"]["category"] == "permissive" and rows["llama3.1"]["publisher"] == "Meta"


# -- tasks --------------------------------------------------------------------------------------------
def test_a_vision_family_declared_text_generation_is_a_mismatch() -> None:
    tasks = load_tasks()
    assert tasks.mismatch("text-generation", {"resnet": "vision"})
    assert not tasks.mismatch("image-classification", {"resnet": "vision"})
    assert not tasks.mismatch("image-to-text", {"resnet": "vision", "lstm": "text"})
    assert not tasks.mismatch("feature-extraction", {"resnet": "vision"})  # not listed: any modality
    assert not tasks.mismatch("automatic-speech-recognition", {"lstm": "text"})  # generic family


def test_a_malformed_task_table_is_rejected() -> None:
    with pytest.raises(TaskTableError, match="non-empty list"):
        parse_tasks({"tasks": {"x": ["smell"]}, "always_fits": ["multimodal"], "generic_families": []}, "t")
    with pytest.raises(TaskTableError, match="top-level"):
        parse_tasks({"tasks": {}}, "t")
