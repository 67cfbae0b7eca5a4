"""Ingest: model files (and the metadata beside them) into normalised operator graphs.

``read_model(path)`` reads one file into its normalised ``ModelGraph`` and its ``ModelInfo``;
``read_model_with_metadata(path, row)`` adds what a manifest row, a model card, a config and a
Hugging Face cache path say. Both are pure functions of their arguments and the files.
"""

from modelgenes.ingest.formats import ModelReader, file_sha256, read_model, readers
from modelgenes.ingest.graph import Initializer, ModelGraph, ModelInfo, OpNode, structural_label
from modelgenes.ingest.license_ids import is_spdx, license_id
from modelgenes.ingest.metadata import (
    ManifestRow,
    Metadata,
    metadata_beside,
    read_manifest,
    read_model_with_metadata,
)
from modelgenes.ingest.normalise import CANONICAL_OPS, normalise

__all__ = [
    "CANONICAL_OPS",
    "Initializer",
    "ManifestRow",
    "Metadata",
    "ModelGraph",
    "ModelInfo",
    "ModelReader",
    "OpNode",
    "file_sha256",
    "is_spdx",
    "license_id",
    "metadata_beside",
    "normalise",
    "read_manifest",
    "read_model",
    "read_model_with_metadata",
    "readers",
    "structural_label",
]
