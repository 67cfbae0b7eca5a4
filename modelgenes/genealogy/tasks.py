"""Declared tasks → the family modalities that can serve them (``tasks.yaml``, data).

Format of ``tasks.yaml`` (checked on load): ``tasks`` maps a Hugging Face ``pipeline_tag`` to a list
of modalities (``text``, ``vision``, ``audio``, ``multimodal``, as ``families.yaml`` gives them);
``always_fits`` lists modalities that fit every task; ``generic_families`` lists families that never
make a mismatch on their own (LSTM, GRU: text, speech and time series alike). A task not listed fits
every modality.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from modelgenes.errors import ModelgenesError

__all__ = ["MODALITIES", "TaskTable", "TaskTableError", "load_tasks", "parse_tasks"]

MODALITIES = ("text", "vision", "audio", "multimodal")


class TaskTableError(ModelgenesError):
    """A task table that does not follow the documented format."""


@dataclass(frozen=True)
class TaskTable:
    tasks: Mapping[str, tuple[str, ...]]
    always_fits: tuple[str, ...]
    generic_families: tuple[str, ...]

    def fits(self, task: str) -> tuple[str, ...] | None:
        """The modalities that can serve ``task`` (``always_fits`` included); None: any modality."""
        found = self.tasks.get(task.strip().lower())
        return None if found is None else (*found, *self.always_fits)

    def mismatch(self, task: str, family_modalities: Mapping[str, str]) -> bool:
        """True when no identified family (name → modality; generic ones left out) fits ``task``."""
        fits = self.fits(task)
        specific = {f: m for f, m in family_modalities.items() if f not in self.generic_families}
        return fits is not None and bool(specific) and not any(m in fits for m in specific.values())

    def param(self) -> dict[str, list[str]]:
        """``{task: [modalities]}`` as the task-mismatch query takes it."""
        return {task: list(self.fits(task) or ()) for task in sorted(self.tasks)}


def parse_tasks(data: Any, source: str) -> TaskTable:
    def fail(problem: str) -> TaskTableError:
        return TaskTableError(f"task table {source}: {problem}")

    if not isinstance(data, Mapping) or set(data) != {"tasks", "always_fits", "generic_families"}:
        raise fail("top-level keys must be always_fits, generic_families and tasks")

    def modalities(value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or any(v not in MODALITIES for v in value):
            raise fail(f"{where} must be a non-empty list of {', '.join(MODALITIES)}")
        return tuple(value)

    if not isinstance(data["tasks"], Mapping):
        raise fail("tasks must be a mapping of pipeline_tag to modalities")
    tasks = {str(k): modalities(v, f"tasks.{k}") for k, v in data["tasks"].items()}
    generic = data["generic_families"]
    if not isinstance(generic, list) or not all(isinstance(g, str) for g in generic):
        raise fail("generic_families must be a list of family names")
    return TaskTable(tasks, modalities(data["always_fits"], "always_fits"), tuple(generic))


@cache
def load_tasks() -> TaskTable:
    """The packaged ``tasks.yaml``."""
    source = resources.files("modelgenes.genealogy").joinpath("tasks.yaml")
    return parse_tasks(yaml.safe_load(source.read_text(encoding="utf-8")), "modelgenes/genealogy/tasks.yaml")
