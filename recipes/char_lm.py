"""Character-level language model (Karpathy et al. 2015) on the King James Bible, with sampling.

Data: the KJV as characters, verse numbers removed; the last books held out (dev, then test).
Reports bits per character on the held-out books and a generated sample.
Run: `zoo train char_lm [--set key=value ...]`. Read as configuration (zoo.tasks.read_recipe), never
executed. The search's best (a 2-layer GRU, recipes/char_lm.tuned.json) diverged when retrained on all
the data: these are the recipe's own values.
"""
from zoo.models import EncoderConfig, LanguageModelConfig
from zoo.tasks import CharLMSettings
from zoo.training import TrainingConfig

TASK = "char_lm"                       # zoo.tasks.CharLMTask: characters, fixed windows, language model
DATASET = "kjv"                        # the King James Bible, books held out

MODEL = LanguageModelConfig(
    embedding_dim=32,                  # ~75 characters need few dimensions
    embedding_mode="learned",          # no pretrained character vectors
    encoder=EncoderConfig(
        cell="lstm",                   # Karpathy et al. (2015): LSTM and GRU beat the simple RNN
        units=512,                     # capacity matters most for bits per character
        layers=1,                      # one wide layer: `zoo analyze activations` reads its cells
        bidirectional=False,           # a language model only sees the past
    ),
    dropout=0.1,                       # light: millions of characters overfit slowly
)

TRAINING = TrainingConfig(
    batch_size=64,                     # 64 windows of 100 characters: ~6,400 characters per update
    epochs=20,                         # upper bound; early stopping ends sooner (a long run resumes from its backup)
    learning_rate=2e-3,                # char-rnn's default step size (Karpathy's, with RMSprop)
    clipnorm=1.0,                      # character LMs are prone to exploding gradients
    schedule="plateau",                # the dev curve flattened at a constant rate (1.87, 1.85 after 6 epochs)
    plateau_patience=0,                # halve as soon as an epoch (minutes) fails to lower the dev loss
    patience=2,                        # stop after two: each halving gets an epoch to pay
    bucketing=False,                   # windows have one fixed length already
)

SETTINGS = CharLMSettings(
    sequence_length=100,               # characters per training window (backpropagation through time)
    eval_sequence_length=1000,         # dev/test windows: 1% of characters start cold, not 1 in 10
    sample_prefix="And God said, ",    # the generated sample's start
    sample_length=300,                 # characters sampled after it
    sample_temperature=0.7,            # below 1: fewer misspellings, a little less variety
)
