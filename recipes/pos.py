"""Part-of-speech tagging: a transducer (token -> universal tag) on the tagged Brown corpus.

Data: Brown corpus (Francis & Kucera 1979), 57,340 sentences, whole files held out for dev and
test; Brown tags mapped to the 12 universal tags of Petrov et al. (2012).
Run: `zoo train pos [--set key=value ...]`. Read as configuration (zoo.tasks.read_recipe), never executed.
The search recorded in recipes/pos.tuned.json found nothing better on dev when retrained: these are
the recipe's own values.
"""
from zoo.models import CharFeaturesConfig, EncoderConfig, TransducerConfig
from zoo.training import TrainingConfig

TASK = "pos"                           # zoo.tasks.POSTask: token vectorizer (+ characters), GloVe rows, transducer
DATASET = "brown_pos"                  # Brown with universal tags

MODEL = TransducerConfig(
    embedding_dim=50,                  # GloVe 6B 50d
    embedding_mode="glove_finetuned",  # GloVe knows rare words the 1M training tokens see once
    encoder=EncoderConfig(
        cell="lstm",                   # gates carry agreement across words; the search's BiGRU did not beat it
        units=100,                     # Plank et al. (2016) use 100 per direction
        layers=2,                      # a second layer helps with long-range agreement
        bidirectional=True,            # a tag depends on the words on both sides
        dropout=0.25,                  # between the two layers
    ),
    dropout=0.25,                      # on embeddings and before the softmax
    num_classes=12,                    # the universal tagset
    char_features=CharFeaturesConfig(  # a char-CNN (Ma & Hovy 2016): unseen words, case, suffixes
        embedding_dim=30,              # Ma & Hovy's character embedding width
        filters=50,                    # a little over their 30: 12 tags lean on many suffixes
        kernel_size=3,                 # trigrams of characters, as Ma & Hovy
        max_word_chars=20,             # the first 20 characters: longer words are rare in Brown
    ),                                 # (vocabulary_size: set from the training characters)
)

TRAINING = TrainingConfig(
    batch_size=64,                     # ~720 updates per epoch; larger batches keep 2 cores busy
    epochs=15,                         # upper bound; early stopping ends sooner
    learning_rate=2e-3,                # Adam at twice its default; the search's 1.8e-3 (pos.tuned.json) scored no better
    clipnorm=5.0,                      # guards against exploding gradients
    patience=2,                        # dev accuracy on ~110k tokens is stable
    min_count=1,                       # keep rare words: GloVe often knows them
    pretrained_words=50_000,           # open vocabulary: GloVe's 50k most frequent words (README: OOV, size)
)
