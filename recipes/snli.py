"""Natural language inference: a sentence-pair encoder (premise, hypothesis -> 3 classes) on SNLI.

Data: SNLI 1.0 (Bowman et al. 2015): the 100,000-pair training subset that this machine can
fetch (dev carved from it), the official 10,000-pair test file; pairs without a gold label dropped.
Run: `zoo train snli [--set key=value ...]`. Read as configuration (zoo.tasks.read_recipe), never executed.
The best trial of the search recorded in recipes/snli.tuned.json is this recipe itself (11 trials on a
fifth of the data: thin evidence, but nothing scored above it).
"""
from zoo.models import EncoderConfig, PairEncoderConfig
from zoo.training import TrainingConfig

TASK = "snli"                          # zoo.tasks.SNLITask: one word vectorizer for both sides, pair encoder
DATASET = "snli"                       # the 100k training subset + the official test file

MODEL = PairEncoderConfig(
    embedding_dim=50,                  # GloVe 6B 50d
    embedding_mode="glove_finetuned",  # pretrained vectors carry most of the lexical knowledge
    encoder=EncoderConfig(
        cell="lstm",                   # the BiLSTM encoder row of the lecture's table
        units=256,                     # per direction
        bidirectional=True,            # the BiLSTM encoder row of the lecture's table
        pooling="max",                 # max pooling beats the final state for NLI (Conneau et al. 2017)
    ),
    dropout=0.1,                       # light: 95k pairs overfit a 256-unit encoder slowly
    num_classes=3,                     # entailment, neutral, contradiction
    hidden_units=256,                  # one MLP layer over [u, v, |u-v|, u*v]
    hidden_layers=1,                   # the classifier of Conneau et al. (2017)
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~1,500 updates per epoch on 95k pairs
    epochs=10,                         # upper bound; early stopping ends sooner
    learning_rate=1e-3,                # Adam's default
    clipnorm=5.0,                      # guards against exploding gradients in the recurrence
    patience=2,                        # the dev split holds thousands of pairs: its loss is steady
    min_count=1,                       # GloVe knows rare words; keep them
)
