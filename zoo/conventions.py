"""The conventions every part of the zoo shares, defined once: reserved ids and input names.

Plain Python (no Keras, no TensorFlow), so the models, the data pipeline and the export all
import the same values.
"""

PADDING_ID = 0  # token id 0 pads every row, always on the right
OOV_ID = 1  # the out-of-vocabulary token
PADDING_TOKEN, OOV_TOKEN = "", "[UNK]"  # their strings in every vocabulary
RESERVED_IDS = (PADDING_ID, OOV_ID)  # never sampled, never a prediction of a language model

# Input names: a single-sentence model takes "token_ids"; a transducer with character features
# takes {"token_ids", "char_ids"}; a pair model {"premise", "hypothesis"}.
TOKEN_IDS, CHAR_IDS = "token_ids", "char_ids"
PAIR_INPUTS = ("premise", "hypothesis")
