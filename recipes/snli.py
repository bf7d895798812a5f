"""Natural language inference: a sentence-pair encoder (premise, hypothesis -> 3 classes) on SNLI.

Data: SNLI 1.0 (Bowman et al. 2015): the 100,000-pair training subset that this machine can
fetch (dev carved from it), the official 10,000-pair test file; pairs without a gold label dropped.
Run: `zoo train snli [--set key=value ...]`. Read as configuration (zoo.tasks.read_recipe), never executed.
The search recorded in recipes/snli.tuned.json (11 trials on a fifth of the data, no ESIM in its
space) picked the siamese BiLSTM-max with these sizes; ESIM then replaced the siamese interaction.
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
    dropout=0.3,                       # ESIM at 0.1 overfit from epoch 3 (dev loss up, session 6); ESIM used 0.5
    num_classes=3,                     # entailment, neutral, contradiction
    interaction="esim",                # cross-sentence attention (Chen et al. 2017); "none": the siamese rows
    hidden_units=256,                  # one tanh MLP layer over the pooled composition
    hidden_layers=1,                   # ESIM's classifier
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~1,500 updates per epoch on 95k pairs
    epochs=8,                          # upper bound (~9 min an epoch on one core); early stopping ends sooner
    learning_rate=1e-3,                # Adam's default
    schedule="plateau",                # halve when the dev loss stops falling ...
    plateau_patience=0,                # ... at the first such epoch: epochs are long
    clipnorm=5.0,                      # guards against exploding gradients in the recurrence
    patience=2,                        # the dev split holds thousands of pairs: its loss is steady
    min_count=1,                       # GloVe knows rare words; keep them
    pretrained_words=50_000,           # open vocabulary: GloVe's 50k most frequent words (README: OOV, size)
)
