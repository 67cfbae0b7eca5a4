"""Scoring: unknown when evidence is weak or broad only; components in data-flow order; variants win."""

from __future__ import annotations

from modelgenes.signatures.model import load_library
from modelgenes.signatures.samples import sample_graph
from modelgenes.signatures.score import identify


def test_plain_mlp_is_unknown_even_with_broad_evidence() -> None:
    found = identify(sample_graph("mlp_three_layers"))
    assert found.unknown
    assert "_broad/feed-forward@1" in found.signatures


def test_cnn_then_lstm_components_follow_the_data_flow() -> None:
    found = identify(sample_graph("crnn_resnet_lstm"))
    assert [c.family for c in found.components] == ["resnet", "lstm"]
    assert found.top == "resnet"  # the backbone explains most of the graph


def test_bert_and_bart_share_broad_signatures_and_bart_adds_cross_attention() -> None:
    bert = identify(sample_graph("bert_encoder"))
    bart = identify(sample_graph("bart_encoder_decoder"))
    resnet = identify(sample_graph("resnet_basic_blocks"))
    assert bert.top == "bert" and bart.top == "bart"
    shared = set(bert.broad) & set(bart.broad)
    assert {"_broad/scaled-dot-product-attention@1", "_broad/feed-forward@1"} <= shared
    assert "_broad/cross-attention@1" in bart.broad and "_broad/cross-attention@1" not in bert.broad
    assert not set(resnet.broad) & shared


def test_a_variant_family_replaces_its_parent() -> None:
    found = identify(sample_graph("roberta_encoder"))
    names = [f.name for f in found.families]
    if "roberta" in names:  # RoBERTa refines BERT: never both
        assert "bert" not in names
    assert load_library().families["roberta"].variant_of == "bert"
