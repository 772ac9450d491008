"""Benchmark: notebook 07's Transformer classifier against the Keras example on IMDB.

    nice -n 5 python bench/imdb.py                  # the benchmark: all 25,000 test reviews
    python bench/imdb.py --only series --validation --epochs 2 --num-layers 1   # explore

Trains on the 25,000 training reviews of aclImdb and prints, for each model,
the training seconds (wall clock of `fit`, and the CPU seconds of this
process) and the accuracy on all 25,000 test reviews, as a table.

- "series": `helpers.classifier.train_classifier(recipe, ...)`, the call
  notebook 07 makes: the model `classifier_from_recipe(recipe)` builds from
  `IMDB_RECIPE` (padding masked in attention and pooling), batches of similar
  length, AdamW with warm-up and cosine decay. Any field of the recipe can be
  changed with its flag (`--attention-kind linear`, `--positions learned`,
  ...); `--seeds 3` trains seeds 0, 1, 2 and prints mean and spread.
- "keras": the configuration of the Keras example "Text classification with
  Transformer" (keras.io; vocabulary 20,000, the last 200 tokens of each
  review, pre-padded with `pad_sequences` as the example does, embedding 32,
  2 heads, feed-forward 32, one block, GlobalAveragePooling1D, Dense 20,
  Adam, batch 32, 2 epochs), built the way the example builds it: padding
  attended to and averaged in.

Choices are made on a validation split carved from the TRAINING reviews
(`--validation`): 5,000 reviews of movies that no other training review is
about (the test set's movies are disjoint from the training set's too, so a
random split would flatter the model). `--train` and `--test` take smaller
stratified subsets for quick runs. Load average and CPU count are printed:
on a shared CPU, wall seconds are pessimistic.
"""
import argparse
import os
import time

import helpers

helpers.start_keras_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402

from helpers.classifier import IMDB_RECIPE, save_classifier, train_classifier  # noqa: E402
from helpers.data import imdb_fit_and_eval, make_imdb_vectorizer, stratified_subset, texts_to_ids  # noqa: E402
from helpers.training import add_recipe_flags, predict_in_buckets, recipe_from_flags  # noqa: E402

KERAS_EXAMPLE = dict(vocab_size=20_000, seq_len=200, embed_dim=32, num_heads=2, ff_dim=32,
                     epochs=2, batch_size=32)


# ------------------------------------------------------------------ data

def load(args):
    """(train texts, train labels, eval texts, eval labels, what the evaluation is on)."""
    train_texts, train_labels, eval_texts, eval_labels, what = imdb_fit_and_eval(args.validation)
    if args.train and args.train < len(train_texts):
        train_texts, train_labels = stratified_subset(train_texts, train_labels, args.train, seed=0)
    if args.test and args.test < len(eval_texts):
        eval_texts, eval_labels = stratified_subset(eval_texts, eval_labels, args.test, seed=0)
    return train_texts, train_labels, eval_texts, eval_labels, what


# ---------------------------------------------------------------- models

class _Clock:
    """Wall and CPU seconds of this process between start and stop."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def run_series(recipe, train_texts, train_labels, eval_texts, eval_labels, seed=0):
    vectorizer = make_imdb_vectorizer(train_texts, recipe.vocab_size, recipe.seq_len)
    x_train, x_eval = texts_to_ids(vectorizer, train_texts), texts_to_ids(vectorizer, eval_texts)
    with _Clock() as clock:
        model = train_classifier(recipe, x_train, train_labels, seed=seed).model
    p_positive = predict_in_buckets(model, x_eval)[:, 0]
    return model, vectorizer, clock, float(np.mean((p_positive > 0.5) == eval_labels))


class TokenAndPositionEmbedding(layers.Layer):
    """The Keras example's embedding: token + position, no mask."""

    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(0, ops.shape(x)[-1], 1))
        return self.token_emb(x) + positions


class TransformerBlock(layers.Layer):
    """The Keras example's block: post-LN, attention over every position, padding included."""

    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.dropout1(self.att(inputs, inputs), training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.dropout2(self.ffn(out1), training=training)
        return self.layernorm2(out1 + ffn_output)


def keras_example_ids(vectorizer, texts, maxlen):
    """As keras.datasets.imdb + pad_sequences(maxlen): the LAST maxlen tokens, padded in front."""
    ids = texts_to_ids(vectorizer, texts)
    return keras.utils.pad_sequences([row[row != 0] for row in ids], maxlen=maxlen)


def run_keras_example(train_texts, train_labels, eval_texts, eval_labels):
    c = KERAS_EXAMPLE
    # Vocabulary from the training reviews; no truncation here, pad_sequences cuts.
    vectorizer = make_imdb_vectorizer(train_texts, c["vocab_size"], seq_len=3_000)
    x_train = keras_example_ids(vectorizer, train_texts, c["seq_len"])
    x_eval = keras_example_ids(vectorizer, eval_texts, c["seq_len"])
    keras.utils.set_random_seed(0)
    inputs = layers.Input(shape=(c["seq_len"],))
    x = TokenAndPositionEmbedding(c["seq_len"], c["vocab_size"], c["embed_dim"])(inputs)
    x = TransformerBlock(c["embed_dim"], c["num_heads"], c["ff_dim"])(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with _Clock() as clock:
        model.fit(x_train, train_labels, batch_size=c["batch_size"], epochs=c["epochs"], verbose=2)
    predicted = np.argmax(model.predict(x_eval, batch_size=256, verbose=0), axis=-1)
    return model, clock, float(np.mean(predicted == eval_labels))


# ------------------------------------------------------------------- main

def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["series", "keras"], help="run one model only")
    parser.add_argument("--validation", action="store_true",
                        help="train on 20,000 training reviews, evaluate on 5,000 of held-out movies")
    parser.add_argument("--train", type=int, help="a stratified subset of this many training reviews")
    parser.add_argument("--test", type=int, help="a stratified subset of this many evaluation reviews")
    parser.add_argument("--save", help="save the series model (seed 0) and its vocabulary here (.keras)")
    parser.add_argument("--seeds", type=int, default=1, help="train the series recipe with SEEDS seeds")
    parser.add_argument("--first-seed", type=int, default=0, help="the first of them (default 0)")
    add_recipe_flags(parser, IMDB_RECIPE, "the series recipe (default: helpers.classifier.IMDB_RECIPE)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    recipe = recipe_from_flags(args, IMDB_RECIPE)
    print(f"CPU cores: {os.cpu_count()}, load average at start: "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    train_texts, train_labels, eval_texts, eval_labels, what = load(args)
    print(f"training on {len(train_texts):,} reviews, evaluating on {len(eval_texts):,} {what}", flush=True)
    rows = []
    if args.only in (None, "keras"):
        print("\n== Keras example:", KERAS_EXAMPLE, flush=True)
        _, clock, accuracy = run_keras_example(train_texts, train_labels, eval_texts, eval_labels)
        rows.append(("Keras example (len 200, d 32, 2 heads, 1 block)", clock, accuracy))
    if args.only in (None, "series"):
        print("\n== series classifier:", recipe, flush=True)
        name = (f"series (len {recipe.seq_len}, d {recipe.d_model}, {recipe.num_heads} heads, "
                f"{recipe.num_layers} blocks, {recipe.attention_kind}, {'masked' if recipe.masked else 'unmasked'})")
        accuracies = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            model, vectorizer, clock, accuracy = run_series(recipe, train_texts, train_labels,
                                                            eval_texts, eval_labels, seed=seed)
            rows.append((f"{name}, seed {seed}", clock, accuracy))
            accuracies.append(accuracy)
            print(f"seed {seed}: {100 * accuracy:.2f} % in {clock.wall:.0f} s of training", flush=True)
            if args.save and seed == args.first_seed:
                print("saved", *save_classifier(model, vectorizer, args.save))
    print(f"\nIMDB sentiment: trained on {len(train_texts):,} reviews, "
          f"accuracy on {len(eval_texts):,} {what}")
    print(f"{'model':70s} {'train s':>8s} {'CPU s':>8s} {'accuracy':>9s}")
    for name, clock, accuracy in rows:
        print(f"{name:70s} {clock.wall:8.0f} {clock.cpu:8.0f} {100 * accuracy:8.2f}%")
    if args.only in (None, "series") and args.seeds > 1:
        spread = 100 * np.array(accuracies)
        print(f"series recipe over {args.seeds} seeds: {spread.mean():.2f} % ± {spread.std(ddof=1):.2f} "
              f"(mean ± standard deviation), range {spread.min():.2f}-{spread.max():.2f} %")
    print("load average at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
