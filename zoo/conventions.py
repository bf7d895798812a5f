"""The conventions every part of the zoo shares, defined once: reserved ids and input names.

Plain Python (no Keras, no TensorFlow), so the models, the data pipeline and the export all
import the same values.
"""

PADDING_ID = 0  # token id 0 pads every row, always on the right
OOV_ID = 1  # the out-of-vocabulary token
PADDING_TOKEN, OOV_TOKEN = "", "[UNK]"  # their strings in every vocabulary
RESERVED_IDS = (PADDING_ID, OOV_ID)  # never sampled, never a prediction of a language model

# An encoder-decoder's vocabulary (source and target share it) also holds the decoder's start
# token (its first input) and end token (its last prediction), at ids 2 and 3. No text reaches
# them: the word tokenizer splits brackets off as tokens of their own.
START_ID, END_ID = 2, 3
START_TOKEN, END_TOKEN = "[START]", "[END]"

# Input names: a single-sentence model takes "token_ids"; a transducer with character features
# takes {"token_ids", "char_ids"}; a pair model {"premise", "hypothesis"}; an encoder-decoder
# {"source", "target"} (the target shifted right: the start token, then all but its end token).
TOKEN_IDS, CHAR_IDS = "token_ids", "char_ids"
PAIR_INPUTS = ("premise", "hypothesis")
SEQUENCE_TO_SEQUENCE_INPUTS = ("source", "target")
