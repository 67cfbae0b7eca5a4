"""License strings as model cards and manifests write them → SPDX ids, using the SPDX license list
shipped with ``license-expression`` (no hand-written table).

``apache-2.0`` → ``Apache-2.0``, ``gpl-3.0`` → ``GPL-3.0-only``, ``cc-by-nc-4.0`` → ``CC-BY-NC-4.0``,
``Apache 2.0`` → ``Apache-2.0``, ``mit OR apache-2.0`` → ``MIT OR Apache-2.0``. Anything the SPDX list
does not know (the hubs' own ids: ``llama2``, ``llama3.1``, ``gemma``, ``openrail``, ``openrail++``,
``creativeml-openrail-m``, ``other``…) is kept as the hub id, lowercased, so that later license rules
can match it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["is_spdx", "license_id", "license_ids"]


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def _spdx(text: str) -> str | None:
    """The rendered SPDX expression for ``text``, or None when the SPDX list does not know it."""
    from license_expression import ExpressionError

    try:
        expression = _licensing().parse(text, validate=True, strict=True)
    except (ExpressionError, ValueError, TypeError, AttributeError):
        return None
    return None if expression is None else str(expression.render())


def license_id(value: str) -> str:
    """The SPDX id (or expression) for a license string, else the string itself, trimmed and lowercased."""
    text = value.strip()
    if not text:
        return ""
    found = _spdx(text)
    if (
        found is None
        and " " in text
        and not any(op in f" {text.lower()} " for op in (" or ", " and ", " with "))
    ):
        found = _spdx(text.replace(" ", "-"))  # "Apache 2.0" → "Apache-2.0"
    return found if found is not None else text.lower()


def license_ids(values: str | Iterable[Any] | None) -> str:
    """One license field (a string, or a list as some cards write it) as one id or expression;
    several licenses listed are all taken to apply (``A AND B``)."""
    if values is None:
        return ""
    if isinstance(values, str):
        return license_id(values)
    ids = [license_id(str(v)) for v in values if v is not None and str(v).strip()]
    ids = list(dict.fromkeys(i for i in ids if i))
    if len(ids) > 1:
        return " AND ".join(f"({i})" if " " in i else i for i in ids)
    return ids[0] if ids else ""


def is_spdx(identifier: str) -> bool:
    """True when ``identifier`` is an SPDX id or expression as written (not a hub's own id)."""
    return bool(identifier) and _spdx(identifier) == identifier
