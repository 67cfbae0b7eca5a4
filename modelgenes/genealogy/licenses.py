"""License rules as data (``licenses.yaml``): categories, the publisher a license names, and what a
derivative must keep — and the three questions the audit asks of them.

Format of ``licenses.yaml`` (every key is checked on load; an error names the file and the key):

``categories``
    The license categories from least to most restrictive (the restrictiveness order):
    ``permissive, copyleft, use-restricted, non-commercial, unknown``. ``unknown`` is the category of
    ``other``, ``unknown`` and of any id no rule lists: nothing can be assumed about it.
``obligations``
    ``name: {checked: bool, description: str}``: what a derivative may have to keep. Only ``checked``
    obligations are enforced along the lineage (attribution is kept by NOTICE files whatever the
    declared license, so it is recorded, not checked). Three have a fixed meaning:
    ``share-alike`` (the derivative must carry the same license, or one of the rule's
    ``same_license``), ``no-derivatives`` (only a format-only copy under the same license) and any
    other checked obligation (``non-commercial``, ``use-restrictions``), kept when the derivative's
    license lists it too.
``lineage``
    ``relations``: the DERIVED_FROM relations that pass obligations on (``same-architecture`` is a
    likeness, not a derivation); ``format_only``: the relations that copy without adapting
    (quantized, conversion); ``min_confidence``: the least confidence an edge needs to count.
``publishers``
    ``key: {name: display name, orgs: [hub organisations that publish for it]}``.
``licenses``
    ``id: {category, keep: [obligations], same_license: [ids], publisher: key, hub: id}``, keyed by
    the id the store keeps (the SPDX id where the SPDX list has one, else the hub's lowercase id);
    ``hub`` is the hub's spelling when it differs (``apache-2.0`` for ``Apache-2.0``).

License expressions (``MIT OR Apache-2.0``, ``llama3.1 AND MIT``) combine their parts: ``AND``
keeps every part's obligations and the most restrictive category, ``OR`` only what every choice
keeps and the least restrictive category.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from modelgenes.errors import ModelgenesError

__all__ = [
    "NO_LICENSE",
    "LicenseRule",
    "LicenseRules",
    "LicenseRulesError",
    "Obligation",
    "Publisher",
    "load_rules",
]

# The category of a model that declares no license (a policy may allow or deny it).
NO_LICENSE = "none"
UNKNOWN = "unknown"
SHARE_ALIKE = "share-alike"
NO_DERIVATIVES = "no-derivatives"

_OPERATOR = re.compile(r"\s(AND|OR|WITH)\s", re.IGNORECASE)
_TOP_KEYS = {"categories", "obligations", "lineage", "publishers", "licenses"}
_RULE_KEYS = {"category", "keep", "same_license", "publisher", "hub"}


class LicenseRulesError(ModelgenesError):
    """A license rules file that does not follow the documented format."""


@dataclass(frozen=True)
class Obligation:
    name: str
    checked: bool
    description: str


@dataclass(frozen=True)
class Publisher:
    key: str
    name: str
    orgs: tuple[str, ...]

    def publishes(self, hub_id_or_org: str | None) -> bool:
        """True when a hub id (``org/name``) or an organisation belongs to this publisher."""
        if not hub_id_or_org:
            return False
        org = hub_id_or_org.split("/", 1)[0].lower()
        return org in {o.lower() for o in self.orgs}


@dataclass(frozen=True)
class LicenseRule:
    """What one license id (or expression) means; ``known`` is False for ids no rule lists."""

    id: str
    category: str
    keep: tuple[str, ...] = ()
    same_license: tuple[str, ...] = ()
    publishers: tuple[Publisher, ...] = ()
    hub: str = ""
    known: bool = True


@dataclass(frozen=True)
class _Expr:
    """A parsed license expression: a leaf id, or AND/OR over parts."""

    op: str  # "id", "AND", "OR"
    id: str = ""
    parts: tuple[_Expr, ...] = ()


@dataclass(frozen=True)
class LicenseRules:
    categories: tuple[str, ...]
    obligations: Mapping[str, Obligation]
    relations: tuple[str, ...]
    format_only: tuple[str, ...]
    min_confidence: float
    publishers: Mapping[str, Publisher]
    licenses: Mapping[str, LicenseRule]
    source: str = ""
    _parsed: dict[str, _Expr] = field(default_factory=dict, compare=False, repr=False)

    # -- single licenses and expressions -----------------------------------------------------------
    def rank(self, category: str) -> int:
        """Restrictiveness of a category: 0 for the least restrictive; ``none`` ranks with unknown."""
        if category in self.categories:
            return self.categories.index(category)
        return len(self.categories) - 1

    def rule(self, license_id: str) -> LicenseRule:
        """The rule for a stored license id or expression (an unlisted id: category ``unknown``)."""
        return self._rule_of(self._parse(license_id))

    def category(self, license_id: str | None) -> str:
        """The category of a license id or expression; ``none`` when there is no license."""
        return self.rule(license_id).category if license_id else NO_LICENSE

    def _leaf(self, license_id: str) -> LicenseRule:
        found = self.licenses.get(license_id) or self.licenses.get(license_id.lower())
        return found if found is not None else LicenseRule(license_id, UNKNOWN, known=False)

    def _rule_of(self, expr: _Expr) -> LicenseRule:
        if expr.op == "id":
            return self._leaf(expr.id)
        parts = [self._rule_of(p) for p in expr.parts]
        text = _render(expr)
        if expr.op == "AND":  # every part applies
            category = max((p.category for p in parts), key=self.rank)
            keep = _union(p.keep for p in parts)
            publishers = _union_publishers(p.publishers for p in parts)
        else:  # the licensee picks one part: only what every part demands is sure
            category = min((p.category for p in parts), key=self.rank)
            keep = tuple(o for o in parts[0].keep if all(o in p.keep for p in parts[1:]))
            common = {pub.key for pub in parts[0].publishers}
            for p in parts[1:]:
                common &= {pub.key for pub in p.publishers}
            publishers = tuple(pub for pub in parts[0].publishers if pub.key in common)
        return LicenseRule(text, category, keep, (), publishers, known=all(p.known for p in parts))

    def _parse(self, text: str) -> _Expr:
        text = text.strip()
        if text not in self._parsed:
            self._parsed[text] = _parse_expression(text)
        return self._parsed[text]

    # -- along the lineage ---------------------------------------------------------------------------
    def dropped(self, parent: str, child: str, *, format_only: bool = False) -> tuple[str, ...]:
        """The checked obligations of ``parent``'s license that a derivative under ``child`` drops.

        ``format_only`` is True when every edge between them only copies (quantized, conversion).
        Empty when the derivative keeps everything it must: no conflict.
        """
        return self._dropped(self._parse(parent), self._parse(child), format_only)

    def _dropped(self, parent: _Expr, child: _Expr, format_only: bool) -> tuple[str, ...]:
        if parent.op == "AND":
            return _union(self._dropped(p, child, format_only) for p in parent.parts)
        if parent.op == "OR":  # the parent's licensee chose a part: a conflict only if every choice drops
            results = [self._dropped(p, child, format_only) for p in parent.parts]
            return tuple(o for o in results[0] if all(o in r for r in results[1:]))
        rule = self._leaf(parent.id)
        same = {rule.id, *rule.same_license}
        out = []
        for name in rule.keep:
            obligation = self.obligations.get(name)
            if obligation is None or not obligation.checked:
                continue
            if name == SHARE_ALIKE:
                kept = self._child_is(child, lambda c: c in same)
            elif name == NO_DERIVATIVES:
                kept = format_only and self._child_is(child, lambda c: c == rule.id)
            else:
                kept = self._child_is(child, partial(self._keeps, name))
            if not kept:
                out.append(name)
        return tuple(out)

    def _keeps(self, obligation: str, license_id: str) -> bool:
        return obligation in self._leaf(license_id).keep

    def _child_is(self, child: _Expr, test: Callable[[str], bool]) -> bool:
        # A child under "A AND B" carries both licenses: one satisfying part is enough. Under
        # "A OR B" its users may pick either: every part must satisfy.
        if child.op == "id":
            return test(self._leaf(child.id).id)
        results = [self._child_is(p, test) for p in child.parts]
        return any(results) if child.op == "AND" else all(results)

    # -- query parameters ------------------------------------------------------------------------
    def categories_param(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """``{license id: {category, rank, keep}}`` for the given stored ids (a query parameter)."""
        out = {}
        for i in sorted(set(ids)):
            rule = self.rule(i)
            out[i] = {"category": rule.category, "rank": self.rank(rule.category), "keep": list(rule.keep)}
        return out

    def conflicts_param(self, ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
        """``{"parent|child": {"any": [...], "formatOnly": [...]}}``: the obligations a derivative
        under ``child`` drops from ``parent``, for every pair of the given ids that conflicts."""
        wanted = sorted(set(ids))
        out = {}
        for parent in wanted:
            for child in wanted:
                any_edge = self.dropped(parent, child)
                copy_only = self.dropped(parent, child, format_only=True)
                if any_edge or copy_only:
                    out[f"{parent}|{child}"] = {"any": list(any_edge), "formatOnly": list(copy_only)}
        return out

    def publishers_param(self, ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """``{license id: [{name, orgs}]}`` for the given ids that name a publisher."""
        out = {}
        for i in sorted(set(ids)):
            pubs = self.rule(i).publishers
            if pubs:
                out[i] = [{"name": p.name, "orgs": list(p.orgs)} for p in pubs]
        return out

    def license_rows(self, extra_ids: Iterable[str] = ()) -> list[dict[str, Any]]:
        """One row per listed license (and per extra stored id) for ``write/upsert_licenses``."""
        rows = []
        for i in sorted({*self.licenses, *extra_ids}):
            rule = self.rule(i)
            rows.append(
                {
                    "id": i,
                    "category": rule.category,
                    "rank": self.rank(rule.category),
                    "keep": list(rule.keep),
                    "sameLicense": list(rule.same_license),
                    "publisher": ", ".join(p.name for p in rule.publishers) or None,
                    "publisherOrgs": [o for p in rule.publishers for o in p.orgs],
                    "known": rule.known,
                }
            )
        return rows


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o for g in groups for o in g))


def _union_publishers(groups: Iterable[Iterable[Publisher]]) -> tuple[Publisher, ...]:
    seen: dict[str, Publisher] = {}
    for g in groups:
        for p in g:
            seen.setdefault(p.key, p)
    return tuple(seen.values())


def _render(expr: _Expr) -> str:
    if expr.op == "id":
        return expr.id
    return f" {expr.op} ".join(_render(p) if p.op == "id" else f"({_render(p)})" for p in expr.parts)


def _parse_expression(text: str) -> _Expr:
    """Parse ``A AND (B OR C)``; ``X WITH exception`` counts as X. Unparseable text is one id."""
    if not _OPERATOR.search(f" {text} "):
        return _Expr("id", text.strip("() "))
    from license_expression import ExpressionError, get_spdx_licensing

    try:
        parsed = get_spdx_licensing().parse(text)
    except (ExpressionError, ValueError, TypeError, AttributeError):
        return _Expr("id", text)
    return _from_library(parsed) if parsed is not None else _Expr("id", text)


def _from_library(node: Any) -> _Expr:
    name = type(node).__name__
    if name in ("AND", "OR"):
        return _Expr(name, parts=tuple(_from_library(a) for a in node.args))
    if name == "LicenseWithExceptionSymbol":
        return _Expr("id", str(node.license_symbol.key))
    return _Expr("id", str(getattr(node, "key", node)))


# --------------------------------------------------------------------------------------------------
# Loading and checking the file
# --------------------------------------------------------------------------------------------------
def _fail(source: str, problem: str) -> LicenseRulesError:
    return LicenseRulesError(f"license rules {source}: {problem}")


def _str_list(value: Any, source: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(source, f"{where} must be a list of strings")
    return tuple(value)


def _mapping(value: Any, source: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(source, f"{where} must be a mapping")
    return value


def parse_rules(data: Any, source: str) -> LicenseRules:
    """Check and build the rules from a loaded YAML document; ``LicenseRulesError`` names the problem."""
    data = _mapping(data, source, "the document")
    unknown = set(data) - _TOP_KEYS
    if unknown or _TOP_KEYS - set(data):
        raise _fail(source, f"top-level keys must be {sorted(_TOP_KEYS)}, found {sorted(data)}")
    categories = _str_list(data["categories"], source, "categories")
    if UNKNOWN not in categories or NO_LICENSE in categories:
        raise _fail(source, f"categories must include {UNKNOWN!r} and not {NO_LICENSE!r}")
    obligations = {}
    for name, spec in _mapping(data["obligations"], source, "obligations").items():
        spec = _mapping(spec, source, f"obligations.{name}")
        if set(spec) != {"checked", "description"} or not isinstance(spec["checked"], bool):
            raise _fail(source, f"obligations.{name} needs exactly checked (true/false) and description")
        obligations[name] = Obligation(name, spec["checked"], str(spec["description"]))
    lineage = _mapping(data["lineage"], source, "lineage")
    if set(lineage) != {"relations", "format_only", "min_confidence"}:
        raise _fail(source, "lineage needs exactly relations, format_only and min_confidence")
    relations = _str_list(lineage["relations"], source, "lineage.relations")
    format_only = _str_list(lineage["format_only"], source, "lineage.format_only")
    if not set(format_only) <= set(relations):
        raise _fail(source, "lineage.format_only must be a subset of lineage.relations")
    min_confidence = lineage["min_confidence"]
    if not isinstance(min_confidence, int | float) or not 0 <= min_confidence <= 1:
        raise _fail(source, "lineage.min_confidence must be a number between 0 and 1")
    publishers = {}
    for key, spec in _mapping(data["publishers"], source, "publishers").items():
        spec = _mapping(spec, source, f"publishers.{key}")
        if set(spec) != {"name", "orgs"}:
            raise _fail(source, f"publishers.{key} needs exactly name and orgs")
        publishers[key] = Publisher(key, str(spec["name"]), _str_list(spec["orgs"], source, key))
    licenses: dict[str, LicenseRule] = {}
    for license_id, spec in _mapping(data["licenses"], source, "licenses").items():
        where = f"licenses.{license_id}"
        spec = _mapping(spec, source, where)
        if set(spec) - _RULE_KEYS:
            raise _fail(source, f"{where}: unknown key(s) {sorted(set(spec) - _RULE_KEYS)}")
        category = spec.get("category")
        if category not in categories:
            raise _fail(source, f"{where}: category {category!r} is not one of {list(categories)}")
        keep = _str_list(spec.get("keep"), source, f"{where}.keep")
        for name in keep:
            if name not in obligations:
                raise _fail(source, f"{where}: unknown obligation {name!r}")
        pub_key = spec.get("publisher")
        if pub_key is not None and pub_key not in publishers:
            raise _fail(source, f"{where}: unknown publisher {pub_key!r}")
        same = _str_list(spec.get("same_license"), source, f"{where}.same_license")
        if same and SHARE_ALIKE not in keep:
            raise _fail(source, f"{where}: same_license without the share-alike obligation")
        licenses[str(license_id)] = LicenseRule(
            id=str(license_id),
            category=category,
            keep=keep,
            same_license=same,
            publishers=(publishers[pub_key],) if pub_key else (),
            hub=str(spec.get("hub", "")),
        )
    for rule in licenses.values():
        for other in rule.same_license:
            if other not in licenses:
                raise _fail(source, f"licenses.{rule.id}.same_license names {other!r}, which no rule lists")
    return LicenseRules(
        categories=categories,
        obligations=obligations,
        relations=relations,
        format_only=format_only,
        min_confidence=float(min_confidence),
        publishers=publishers,
        licenses=licenses,
        source=source,
    )


def load_rules(path: str | Path | None = None) -> LicenseRules:
    """The rules of ``path``, or the packaged ``licenses.yaml`` (loaded once)."""
    if path is None:
        return _packaged_rules()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise _fail(str(path), f"cannot read: {e}") from e
    return parse_rules(data, str(path))


@cache
def _packaged_rules() -> LicenseRules:
    source = resources.files("modelgenes.genealogy").joinpath("licenses.yaml")
    return parse_rules(
        yaml.safe_load(source.read_text(encoding="utf-8")), "modelgenes/genealogy/licenses.yaml"
    )
