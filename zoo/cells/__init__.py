"""Recurrent cells written by hand with `keras.ops`; each computes one step (see its docstring)."""
from zoo.cells.base import RecurrentCell
from zoo.cells.elman import ElmanCell
from zoo.cells.gated_elman import GatedElmanCell
from zoo.cells.gru import GRUCell
from zoo.cells.lstm import LSTMCell

CELLS = {
    "elman": ElmanCell,
    "gated_elman": GatedElmanCell,
    "lstm": LSTMCell,
    "gru": GRUCell,
}

__all__ = ["CELLS", "ElmanCell", "GatedElmanCell", "GRUCell", "LSTMCell", "RecurrentCell"]
