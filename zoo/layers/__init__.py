"""Layers built on the cells: the sequence encoder, the recurrent layers it stacks (chosen in
`zoo.layers.recurrent`: Keras' own, the zoo's cells, the fused LSTM, Keras' LSTM/GRU by lengths),
padding masks, masked pooling, pair features, soft alignment and a decoder's attention, character-CNN word
features, an embedding with frozen pretrained rows."""
from zoo.layers.attention import AlignmentEnhancement, DecoderAttention, SoftAlignment, masked_softmax
from zoo.layers.char_cnn import CharCNN
from zoo.layers.embedding import PretrainedTailEmbedding
from zoo.layers.encoder import (
    BUILTIN_LAYERS,
    CELL_KINDS,
    IMPLEMENTATIONS,
    SequenceEncoder,
    make_recurrent_layer,
    resolve_implementation,
)
from zoo.layers.by_lengths import GRUByLengths, LSTMByLengths
from zoo.layers.fused_lstm import FusedLSTM, ProjectedLSTMCell
from zoo.layers.masking import POOLINGS, MaskedPooling, PaddingMask
from zoo.layers.pair_features import PairFeatures

__all__ = [
    "AlignmentEnhancement", "BUILTIN_LAYERS", "DecoderAttention", "CELL_KINDS", "CharCNN", "FusedLSTM", "GRUByLengths",
    "IMPLEMENTATIONS", "LSTMByLengths", "POOLINGS", "MaskedPooling", "PaddingMask", "PairFeatures",
    "PretrainedTailEmbedding",
    "ProjectedLSTMCell", "SequenceEncoder", "SoftAlignment", "make_recurrent_layer", "masked_softmax",
    "resolve_implementation",
]
