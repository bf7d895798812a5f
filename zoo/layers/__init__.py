"""Layers built on the cells: the sequence encoder, padding masks, masked pooling, pair features."""
from zoo.layers.encoder import (
    BUILTIN_LAYERS,
    CELL_KINDS,
    IMPLEMENTATIONS,
    SequenceEncoder,
    make_recurrent_layer,
    resolve_implementation,
)
from zoo.layers.fused_lstm import FusedLSTM
from zoo.layers.masking import POOLINGS, MaskedPooling, PaddingMask
from zoo.layers.pair_features import PairFeatures

__all__ = [
    "BUILTIN_LAYERS", "CELL_KINDS", "FusedLSTM", "IMPLEMENTATIONS", "POOLINGS", "MaskedPooling", "PaddingMask",
    "PairFeatures", "SequenceEncoder", "make_recurrent_layer", "resolve_implementation",
]
