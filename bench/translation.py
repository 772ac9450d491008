"""Benchmark: train notebook 09's English-to-Spanish translator from its recipe, and measure it.

    nice -n 5 python bench/translation.py [--split english|lines] [--epochs 3 ...] [--save PATH]

Builds and trains `helpers.translation.SPA_ENG_RECIPE` (any field can be
changed with its flag, e.g. --epochs 4 --batch-size 128) with the same
`train_translator` call notebook 09 makes, then prints the training minutes
and corpus BLEU (sacrebleu; every Spanish translation of a sentence is a
reference) on the whole validation split (greedy), and on the whole test
split, greedy and beam search, with decoding speed. --split lines splits the
lines at random instead of by English sentence (the leak of notebook 09,
section 2): it also scores the test sentences seen in training apart from
the unseen ones. Data: Tatoeba via www.manythings.org/anki, CC BY 2.0 France.
"""
import argparse
import os
import time

import helpers

helpers.start_keras_quietly()

import numpy as np  # noqa: E402

from helpers.data import load_spa_eng, split_by_english, split_by_line  # noqa: E402
from helpers.training import add_recipe_flags, recipe_from_flags  # noqa: E402
from helpers.translation import (  # noqa: E402
    SPA_ENG_RECIPE, beam_search, corpus_bleu, detokenize, greedy_decode, group_references, save_translator,
    train_translator)


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["english", "lines"], default="english",
                        help="split by English sentence (honest, the notebook's) or by line (leaky)")
    parser.add_argument("--width", type=int, default=4, help="beam width (1: greedy only; beam of width 1 is greedy)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", help="also save the trained translator here (.keras)")
    parser.add_argument("--limit", type=int, help="use only this many pairs of each split (a smoke test)")
    add_recipe_flags(parser, SPA_ENG_RECIPE, "the recipe (default: helpers.translation.SPA_ENG_RECIPE)")
    return parser.parse_args(argv)


def score(trained, sources, references, decode, recipe):
    """(hypotheses, BLEUScore, seconds, tokens written) of decoding `sources` with `decode`."""
    vocab = trained.target_vectorizer.get_vocabulary()
    source_ids = np.asarray(trained.source_vectorizer(sources))
    start = time.perf_counter()
    ids = decode(trained.model, source_ids, vocab.index("[start]"), vocab.index("[end]"), recipe.max_length)
    seconds = time.perf_counter() - start
    hypotheses = [detokenize([vocab[i] for i in row]) for row in ids]
    return hypotheses, corpus_bleu(hypotheses, references), seconds, sum(len(row) + 1 for row in ids)


def main(argv=None):
    args = parse(argv)
    recipe = recipe_from_flags(args, SPA_ENG_RECIPE)
    print(f"CPU cores: {os.cpu_count()}, load average at start: "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    split = split_by_english if args.split == "english" else split_by_line
    train, val, test = (part[: args.limit] for part in split(load_spa_eng()))
    print(recipe, f"\nsplit by {args.split}: {len(train):,} training pairs", flush=True)
    trained = train_translator(recipe, train, val, seed=args.seed)
    print(f"{trained.model.count_params():,} parameters; training: {trained.seconds / 60:.1f} minutes, "
          "load average now " + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    if args.save:
        save_translator(args.save, trained.model, trained.source_vectorizer, trained.target_vectorizer,
                        recipe=recipe, history=trained.history, seconds=trained.seconds)

    greedy = greedy_decode
    beam = lambda *a: beam_search(*a, width=args.width)  # noqa: E731
    sources, references = group_references(val)
    _, bleu, _, _ = score(trained, sources, references, greedy, recipe)
    print(f"validation: {len(sources):,} English sentences, greedy BLEU {bleu.score:.1f}")
    sources, references = group_references(test)
    print(f"test split: {len(test):,} pairs, {len(sources):,} distinct English sentences")
    decoders = [("greedy", greedy)] + ([(f"beam (width {args.width})", beam)] if args.width > 1 else [])
    for name, decode in decoders:
        hypotheses, bleu, seconds, tokens = score(trained, sources, references, decode, recipe)
        print(f"  {name:16s} BLEU {bleu.score:5.1f}   {tokens / seconds:,.0f} tokens/s "
              f"({seconds:.0f} s for {len(sources):,} sentences)", flush=True)
        if args.split == "lines":
            seen = {en for en, _ in train}
            for label, keep in (("seen in training", True), ("unseen", False)):
                rows = [i for i, s in enumerate(sources) if (s in seen) == keep]
                part = corpus_bleu([hypotheses[i] for i in rows], [references[i] for i in rows])
                print(f"    {label:17s} {len(rows):6,} sentences: BLEU {part.score:5.1f}")
    print(f"sacrebleu signature: {bleu.signature}")


if __name__ == "__main__":
    main()
