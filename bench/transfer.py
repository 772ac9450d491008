"""Benchmark: notebook 13's transfer learning on IMDB, in one run.

    nice -n 5 python bench/transfer.py                       # everything trained now, in a temporary folder
    python bench/transfer.py --models data/models            # reuse the notebooks' cached models and curve
    python bench/transfer.py --validation --learning-rate 1e-3   # choose on held-out movies, never the test set

Prints test accuracy on all 25,000 test reviews for notebook 07's recipe from
scratch (`train_classifier(IMDB_RECIPE)`), notebook 13's GPT classifier from
scratch (`SCRATCH_RECIPE`) and pretrained + fine-tuned (`FINE_TUNE_RECIPE`),
the learning-curve points (mean ± standard deviation over seeds, on a fixed
random sample of 2,000 test reviews), and the minutes of pretraining and of
each fine-tuning. Every model is built and trained by the same helpers
notebook 13 uses (`helpers.transfer`), from the same recipe objects.

--validation trains on the training reviews of movies outside a 5,000-review
validation split (`helpers.data.imdb_movie_split`) and measures on that split:
the test set stays unseen while choosing. --learning-rate, --epochs and
--head-steps change FINE_TUNE_RECIPE there (the pretrained model only).
"""
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import helpers

helpers.start_keras_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from helpers.classifier import IMDB_RECIPE, load_or_train_classifier  # noqa: E402
from helpers.data import imdb_fit_and_eval, texts_to_ids  # noqa: E402
from helpers.generation import GPT_RECIPE  # noqa: E402
from helpers.training import predict_in_buckets  # noqa: E402
from helpers.transfer import (CURVE_MIN_STEPS, FINE_TUNE_RECIPE, LEARNING_CURVE, SCRATCH_RECIPE,  # noqa: E402
                              copy_body, learning_curve, load_or_fine_tune, load_or_pretrain, review_ids,
                              sentiment_gpt)

def accuracy(p_positive, labels):
    return float(np.mean((np.asarray(p_positive) > 0.5) == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="folder of cached models (default: a new temporary folder)")
    parser.add_argument("--validation", action="store_true", help="choose on held-out movies (no test set)")
    parser.add_argument("--learning-rate", type=float, default=FINE_TUNE_RECIPE.learning_rate)
    parser.add_argument("--epochs", type=int, default=FINE_TUNE_RECIPE.epochs)
    parser.add_argument("--head-steps", type=int, default=FINE_TUNE_RECIPE.head_steps)
    parser.add_argument("--only", choices=["pretrained", "scratch"], help="with --validation: train one model only")
    args = parser.parse_args()
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    models = Path(args.models or tempfile.mkdtemp())
    tokenizer, language_model, record = load_or_pretrain(models, GPT_RECIPE)
    print(f"pretraining (notebook 10): {record['minutes']:.1f} min, {record['tokens'] / 1e6:.1f}M tokens", flush=True)

    train_texts, train_labels, eval_texts, eval_labels, what = imdb_fit_and_eval(args.validation)
    tune = FINE_TUNE_RECIPE
    if args.validation:
        tune = tune.replace(learning_rate=args.learning_rate, epochs=args.epochs, head_steps=args.head_steps)
        models = Path(tempfile.mkdtemp())   # never the class's files
    x_fit, x_eval = review_ids(tokenizer, train_texts, tune.length), review_ids(tokenizer, eval_texts, tune.length)

    def from_language_model():
        model = sentiment_gpt(GPT_RECIPE, dropout=tune.dropout)
        copy_body(model, language_model)
        return model

    runs = {"pretrained + fine-tuned": (from_language_model, tune, "13_finetuned.keras"),
            "same model from scratch": (lambda: sentiment_gpt(GPT_RECIPE, dropout=tune.dropout), SCRATCH_RECIPE,
                                      "13_scratch.keras")}
    if args.validation and args.only:
        runs = {name: run for name, run in runs.items() if args.only in name}
    rows, p_eval = [], {}
    if not args.validation:
        model, vectorizer, seconds = load_or_train_classifier(models / "imdb_transformer.keras", IMDB_RECIPE,
                                                              train_texts, train_labels)
        p = predict_in_buckets(model, texts_to_ids(vectorizer, eval_texts))[:, 0]
        rows.append(("notebook 07's recipe from scratch", seconds, accuracy(p, eval_labels)))
    for name, (build, recipe, file) in runs.items():
        print(f"\n== {name}: {recipe}", flush=True)
        model, seconds = load_or_fine_tune(models / file, build, x_fit, train_labels, recipe, seed=0)
        p_eval[name] = predict_in_buckets(model, x_eval)[:, 0]
        rows.append((name, seconds, accuracy(p_eval[name], eval_labels)))
    print(f"\naccuracy on all {len(eval_labels):,} {what}; training minutes (cached: loaded, not trained now)")
    for name, seconds, value in rows:
        trained = "cached" if seconds is None else f"{seconds / 60:.1f}"
        print(f"  {name:40s} {trained:>7s} min   {100 * value:6.2f} %")
    if args.validation:
        return

    sample = np.sort(np.random.default_rng(0).choice(len(eval_labels), 2_000, replace=False))
    curve_file = models / "13_learning_curve.json"
    setting = {"sizes": [[n, seeds] for n, seeds in LEARNING_CURVE.items()], "min_steps": CURVE_MIN_STEPS,
               "recipes": [repr(tune), repr(SCRATCH_RECIPE)]}
    curve = json.loads(curve_file.read_text()) if curve_file.exists() else {}
    if curve.get("setting") != setting:
        started = time.perf_counter()
        points = learning_curve({name: run[:2] for name, run in runs.items()}, x_fit, train_labels,
                                x_eval[sample], eval_labels[sample])
        print(f"learning curve trained in {(time.perf_counter() - started) / 60:.1f} min")
        curve = {"setting": setting, "points": points}
        curve_file.write_text(json.dumps(curve, indent=1))
    print(f"\nlearning curve: accuracy on a fixed random sample of {len(sample):,} test reviews")
    for n in LEARNING_CURVE:
        cells = []
        for name in runs:
            hits = [p["accuracy"] for p in curve["points"] if p["model"] == name and p["n"] == n]
            spread = f" ± {100 * np.std(hits, ddof=1):.1f}" if len(hits) > 1 else ""
            cells.append(f"{name} {100 * np.mean(hits):5.1f}{spread} % ({len(hits)} seed{'s' * (len(hits) > 1)})")
        print(f"  n = {n:6,}: " + "   ".join(cells))
    full = "   ".join(f"{name} {100 * accuracy(p_eval[name][sample], eval_labels[sample]):5.1f} %" for name in runs)
    print(f"  n = {len(x_fit):6,}: {full}  (section 5's models, seed 0)")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
