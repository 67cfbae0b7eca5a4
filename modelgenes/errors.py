"""The one exception family of modelgenes.

Every error a user can cause or meet is a ``ModelgenesError``; library errors are wrapped ``from e``
with the file, URI or query name and the cause in the message, so the CLI can print one clear line.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ModelgenesError",
    "QueryError",
    "StoreUnavailable",
    "UnreadableModel",
    "UnsafeModel",
    "UnsupportedFormat",
]


class ModelgenesError(Exception):
    """Root of every error modelgenes raises on purpose."""


class UnreadableModel(ModelgenesError):
    """A model file could not be read (missing, truncated, corrupt, not a model)."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: cannot read model: {cause}")


class UnsupportedFormat(UnreadableModel):
    """The file is readable but no reader knows its format."""

    def __init__(self, path: str | Path, cause: str = "no reader recognises this file's content") -> None:
        super().__init__(path, cause)


class UnsafeModel(ModelgenesError):
    """A model asks for something we refuse to do (e.g. external data outside its folder)."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: unsafe model: {cause}")


class StoreUnavailable(ModelgenesError):
    """The graph store cannot be reached or started."""

    def __init__(self, uri: str, cause: str) -> None:
        self.uri = uri
        self.cause = cause
        super().__init__(f"graph store {uri} is unavailable: {cause}")


class QueryError(ModelgenesError):
    """The store rejected or failed a query; carries the store's own message."""

    def __init__(self, query_name: str, store_message: str) -> None:
        self.query_name = query_name
        self.store_message = store_message
        super().__init__(f"query {query_name!r} failed: {store_message}")
