"""Layers built on the cells: the sequence encoder, the fused LSTM, padding masks, masked pooling,
pair features, character-CNN word features."""
from zoo.layers.char_cnn import CharCNN
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
    "BUILTIN_LAYERS", "CELL_KINDS", "CharCNN", "FusedLSTM", "IMPLEMENTATIONS", "POOLINGS", "MaskedPooling", "PaddingMask",
    "PairFeatures", "SequenceEncoder", "make_recurrent_layer", "resolve_implementation",
]
