"""How many dev/test tokens stay OOV with the training vocabulary alone, and with GloVe's most
frequent N words added (the open vocabulary, `TrainingConfig.pretrained_words`).

    python benchmarks/open_vocabulary.py [--sizes 10000,20000,50000,100000,400000]

Tokens are counted as each task's vectorizer tokenizes them (`zoo.tasks.Task.token_counts`); a
word gets an id from GloVe only if the tokenizer can produce it (`extend_vocabulary`), as in a run.
Prints one line per task and split, the README's table.
"""
from __future__ import annotations

import argparse

RECIPE_DATASETS = {"sentiment": "uci_sentiment", "pos": "brown_pos", "snli": "snli"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,20000,50000,100000,400000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    import zoo.data
    from zoo import embeddings
    from zoo.data.vectorize import extend_vocabulary
    from zoo.tasks import get, load_recipe

    words, _ = embeddings.load_glove()
    for task_name, dataset in RECIPE_DATASETS.items():
        task, recipe = get(task_name), load_recipe(task_name)
        data = zoo.data.load(dataset)
        vectorizer, _ = task.build_vectorizer(data, recipe.model, recipe.training)
        training_vocabulary = set(map(str, vectorizer.get_vocabulary()))
        _, reachable = extend_vocabulary(vectorizer, words)  # in GloVe's order, by frequency
        rank = {word: position for position, word in enumerate(words)}
        for split in ("dev", "test"):
            counts = task.token_counts(data, split)
            total = sum(counts.values())
            oov = {token: n for token, n in counts.items() if token not in training_vocabulary}
            reached = set(reachable)
            row = [f"{task_name}/{split}: {total} tokens, training vocabulary {100 * sum(oov.values()) / total:.2f}%"]
            for size in sizes:
                left = sum(n for token, n in oov.items() if token not in reached or rank[token] >= size)
                row.append(f"N={size}: {100 * left / total:.2f}%")
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
