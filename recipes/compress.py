"""Sentence compression: an encoder-decoder with attention (premise -> a sentence it entails) on SNLI.

Data: SNLI 1.0's entailment pairs (`snli_entailment`): the premise as source, an entailed
hypothesis (usually shorter: 6.6 words against 12.8) as target; train and dev from the 100k
training subset (31,705 and 1,680 pairs, dev premises never seen in training), the official test
file's 3,368 entailment pairs as test.
Run: `zoo train compress [--set key=value ...]`. Read as configuration (zoo.tasks.read_recipe), never executed.
"""
from zoo.models import EncoderConfig, EncoderDecoderConfig
from zoo.tasks import DecodingSettings
from zoo.training import TrainingConfig

TASK = "compress"                      # zoo.tasks.CompressTask: one vocabulary for both sides, encoder-decoder
DATASET = "snli_entailment"            # SNLI's entailment pairs, SNLI's splits

MODEL = EncoderDecoderConfig(
    embedding_dim=50,                  # GloVe 6B 50d, the vectors this machine can fetch
    embedding_mode="glove_finetuned",  # 32k pairs are few to learn words from; GloVe carries them
    encoder=EncoderConfig(
        cell="lstm",                   # gates carry a word from the source to where the target needs it
        units=128,                     # per direction: 256 wide encodings, the decoder's width
        bidirectional=True,            # each source word's encoding sees its whole sentence
        pooling="final",               # both directions' last states start the decoder (through tanh)
    ),
    decoder_cell="lstm",               # the encoder's cell kind
    decoder_units=0,                   # the encoder's output width (256)
    attention="general",               # Luong's s W h: the target mostly copies source words, which
                                       # attention finds (the tests: attention learns reversal, none does not)
    dropout=0.2,                       # on the embeddings and before the softmax
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~500 updates per epoch
    epochs=16,                         # upper bound; early stopping on the dev loss ends sooner (session 9:
                                       # 12 ended as the rate was first halved; 16 still lowered the dev loss)
    learning_rate=1e-3,                # Adam's default
    schedule="plateau",                # halve when the dev loss stops falling ...
    plateau_patience=0,                # ... at the first such epoch
    patience=2,                        # stop after two epochs without a lower dev loss
    clipnorm=5.0,                      # guards against exploding gradients in the recurrence
    min_count=2,                       # a word seen once is noise to a 32k-pair softmax; it reads as OOV
    pretrained_words=0,                # no open vocabulary: every id is also an output class, and
                                       # 50k more classes would slow each step for words it never writes
)

SETTINGS = DecodingSettings(
    beam_width=4,                      # the usual small beam; greedy is reported beside it
    length_penalty=2.0,                # GNMT's alpha, chosen on dev BLEU over two trained runs (session 9,
                                       # beam 4; alpha 0.6 / 1.0 / 1.5 / 2.0 / 3.0: run 1 9.2 / 10.4 /
                                       # 12.8 / 13.6 / 14.3, run 2 12.2 / 13.3 / 13.9 / 14.5 / 13.3):
                                       # smaller, beams end early on generic sentences; larger, they ramble
    max_length=0,                      # twice the source plus 10 tokens
    examples=8,                        # test examples shown in metrics.json
)
