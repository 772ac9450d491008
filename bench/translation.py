"""Benchmark: train notebook 09's English-to-Spanish Transformer in full, measure it.

    nice -n 5 python bench/translation.py [--epochs 8] [--save data/models/bench_translator.keras]

Trains on the train split of spa-eng (split by English sentence, helpers.data),
then prints the training minutes, corpus BLEU on the whole held-out test split
(sacrebleu; every Spanish translation of a test sentence is a reference) for
greedy decoding and beam search, and decoding speed in tokens per second.
Data: Tatoeba via www.manythings.org/anki, CC BY 2.0 France.
"""
import argparse
import os
import time

import helpers

helpers.start_keras_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402

from helpers.data import load_spa_eng, split_by_english  # noqa: E402
from helpers.training import warmup_cosine  # noqa: E402
from helpers.translation import (  # noqa: E402
    BLEU_TOKENIZE,
    beam_search,
    corpus_bleu,
    detokenize,
    greedy_decode,
    group_references,
    make_vectorizers,
    masked_accuracy,
    masked_loss,
    save_translator,
    translation_dataset,
    transformer_translator,
)

# The full-mode sizes of notebook 09 (keep them in step).
VOCAB, MAX_LENGTH, BATCH = 10_000, 20, 64
MODEL = dict(d_model=128, num_heads=4, d_ff=512, num_layers=2, dropout=0.1)
PEAK_LR, WARMUP = 1e-3, 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--width", type=int, default=4, help="beam width")
    parser.add_argument("--save", help="also save the trained translator here (.keras)")
    parser.add_argument("--limit", type=int, help="use only this many pairs of each split (a smoke test)")
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    keras.utils.set_random_seed(0)
    train, val, test = (part[: args.limit] for part in split_by_english(load_spa_eng()))
    source_vectorizer, target_vectorizer = make_vectorizers(train, VOCAB, VOCAB, MAX_LENGTH)
    train_data = translation_dataset(train, source_vectorizer, target_vectorizer, BATCH,
                                     shuffle=True, seed=0)
    val_data = translation_dataset(val[:2000], source_vectorizer, target_vectorizer, 256)
    steps = args.epochs * train_data.cardinality().numpy()
    schedule = warmup_cosine(PEAK_LR, int(steps), min(WARMUP, int(steps) // 4))
    model = transformer_translator(VOCAB, VOCAB, MAX_LENGTH, **MODEL)
    model.compile(keras.optimizers.Adam(schedule), loss=masked_loss, metrics=[masked_accuracy])
    print(f"{model.count_params():,} parameters, {steps:,} steps of {BATCH} pairs")
    start = time.perf_counter()
    model.fit(train_data, validation_data=val_data, epochs=args.epochs, verbose=2, shuffle=False)
    minutes = (time.perf_counter() - start) / 60
    print(f"training: {minutes:.1f} minutes, load average now {os.getloadavg()}")
    if args.save:
        save_translator(args.save, model, source_vectorizer, target_vectorizer)

    sources, references = group_references(test)
    print(f"test split: {len(test):,} pairs, {len(sources):,} distinct English sentences")
    source_ids = np.asarray(source_vectorizer(sources))
    vocab = target_vectorizer.get_vocabulary()
    start_id, end_id = vocab.index("[start]"), vocab.index("[end]")
    for name, decode in (("greedy", greedy_decode),
                         (f"beam (width {args.width})",
                          lambda *a: beam_search(*a, width=args.width))):
        start = time.perf_counter()
        ids = decode(model, source_ids, start_id, end_id, MAX_LENGTH)
        seconds = time.perf_counter() - start
        tokens = sum(len(row) + 1 for row in ids)  # the translation's tokens and [end]
        hypotheses = [detokenize([vocab[i] for i in row]) for row in ids]
        print(f"{name:16s} BLEU {corpus_bleu(hypotheses, references).score:5.1f}   "
              f"{tokens / seconds:,.0f} tokens/s ({seconds:.0f} s for {len(sources):,} sentences)")
    print(f"sacrebleu {sacrebleu.__version__} corpus BLEU: tokenize={BLEU_TOKENIZE}, lowercase, "
          "all Spanish lines of a test sentence as its references")


if __name__ == "__main__":
    main()
