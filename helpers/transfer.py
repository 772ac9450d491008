"""Transfer learning: notebook 10's language model, fine-tuned to tell positive from negative reviews (notebook 13).

    token ids (batch, n): EOT, the review's first tokens, then EOT (id 0) as padding
      -> "embedding", "block_0" ... "block_{L-1}", "final_norm"   the body: notebook 10's GPT, weights copied
      -> MaskedGlobalPooling("mean") over the review's own tokens  (batch, d_model)
      -> Dropout -> Dense(1, sigmoid)                             the head, new: P(positive) (batch, 1)

The body's attention is causal: position i reads positions j <= i only. So
padding after the review changes nothing at the review's positions, and the
masked mean (`RealTokens` marks the leading EOT and every token up to the
last non-padding one) keeps the padding out of the review's vector: extra
padding never changes a prediction. The last real token has also read the
whole review; the mean uses every position's summary instead of one.

    sentiment_gpt(recipe, dropout)         the classifier, its body at initialisation
    copy_body(classifier, language_model)  the language model's weights into the body, each one checked
    load_or_pretrain(models_dir, recipe)   notebook 10's tokenizer and language model, cached (or made as 10 does)
    review_ids(tokenizer, texts, length)   EOT + the first length - 1 tokens of each review, 0-padded
    FineTuneRecipe / FINE_TUNE_RECIPE      how the classifier is trained (both from pretrained and from scratch)
    fine_tune(model, ids, labels, recipe)  a frozen-body warm-up for the head, then everything, AdamW
    load_or_fine_tune(path, build, ...)    the same, cached
    curve_recipe(recipe, n, min_steps)     the recipe for a learning-curve point on n reviews
    learning_curve(runs, ...)              accuracy against labelled reviews, seeds per size (LEARNING_CURVE)
    weight_change(before, after)           how far each body layer's weights moved, relative
"""
import time
from dataclasses import dataclass

import numpy as np
import keras
from keras import ops

from helpers.classifier import MaskedGlobalPooling, TrainedClassifier
from helpers.training import replace_fields
from helpers.generation import GPT_RECIPE, CausalBlock, GPTRecipe, _parts
from helpers.layers import PositionalEmbedding
from helpers.mode import pick
from helpers.tokens import EOT_ID, clean_review
from helpers.training import length_buckets, warmup_cosine

__all__ = [
    "RealTokens",
    "sentiment_gpt",
    "body_layers",
    "copy_body",
    "load_or_pretrain",
    "review_ids",
    "FineTuneRecipe",
    "FINE_TUNE_RECIPE",
    "SCRATCH_RECIPE",
    "fine_tune",
    "load_or_fine_tune",
    "curve_recipe",
    "LEARNING_CURVE",
    "CURVE_MIN_STEPS",
    "learning_curve",
    "weight_change",
    "attention_maps",
]


@keras.saving.register_keras_serializable(package="helpers")
class RealTokens(keras.layers.Layer):
    """The review's own positions: True from the leading EOT (position 0) to the last non-padding token.

    Call with token_ids (batch, n), 0 = EOT; a row is EOT, its tokens, then
    EOT padding. Returns a boolean mask (batch, n).
    """

    def call(self, token_ids):
        n = ops.shape(token_ids)[1]
        positions = ops.arange(n)[None, :]
        nonzero = ops.cast(ops.not_equal(token_ids, EOT_ID), "int32")
        last = ops.max(nonzero * positions, axis=1, keepdims=True)   # 0 for a row of EOT alone
        return positions <= last

    def compute_output_shape(self, input_shape):
        return input_shape


def sentiment_gpt(recipe=GPT_RECIPE, dropout=0.1):
    """A GPT body of `recipe`'s sizes with a sentiment head: token ids (batch, n <= context) -> P(positive) (batch, 1).

    The body has the language model's layer names ("embedding", "block_i",
    "final_norm"), so `copy_body` can fill it; dropout: rate in each block and
    before the head while training. Uncompiled, weights at initialisation.
    """
    if not isinstance(recipe, GPTRecipe):
        raise TypeError(f"recipe must be a GPTRecipe; got {type(recipe).__name__}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1); got {dropout}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = PositionalEmbedding(recipe.vocab_size, recipe.context, recipe.d_model, kind="learned",
                            name="embedding")(token_ids)
    for i in range(recipe.num_layers):
        x = CausalBlock(recipe.d_model, recipe.num_heads, recipe.d_ff, dropout, name=f"block_{i}")(x)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    x = MaskedGlobalPooling("mean", name="pooling")(x, mask=RealTokens(name="real_tokens")(token_ids))
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    p_positive = keras.layers.Dense(1, activation="sigmoid", name="p_positive")(x)
    return keras.Model(token_ids, p_positive, name="sentiment_gpt")


def body_layers(model):
    """The body's layers of a `sentiment_gpt` or `gpt_model` model: embedding, blocks, final_norm, in order."""
    names = {layer.name: layer for layer in model.layers}
    body = [name for name in names if name == "embedding" or name.startswith("block_") or name == "final_norm"]
    if "embedding" not in body or "final_norm" not in body or len(body) < 3:
        raise ValueError("model must be a sentiment_gpt or gpt_model model (embedding, block_i, final_norm); "
                         f"got layers {list(names)}")
    return [names[name] for name in body]


def copy_body(classifier, language_model):
    """Copy every weight of the language model's body into the classifier's; returns how many were copied.

    Layers are matched by name, weights by position within the layer, and
    every pair must agree in shape: a language model of another vocabulary
    or size is refused, naming the first weight that differs. The language
    model's output layer ("logits") is not copied: the head is new.
    """
    _parts(language_model)  # a clear error for anything that is not a gpt_model
    ours = {layer.name: layer for layer in body_layers(classifier)}
    theirs = {layer.name: layer for layer in body_layers(language_model)}
    if set(ours) != set(theirs):
        raise ValueError(f"the classifier's body has layers {sorted(ours)}, the language model's {sorted(theirs)}: "
                         "build the classifier with sentiment_gpt(the language model's recipe)")
    copied = 0
    for name, layer in ours.items():
        source = theirs[name].weights
        if len(source) != len(layer.weights):
            raise ValueError(f"layer {name} holds {len(layer.weights)} weights, the language model's {len(source)}")
        for mine, given in zip(layer.weights, source):
            if tuple(mine.shape) != tuple(given.shape):
                raise ValueError(
                    f"{name}/{mine.name} has shape {tuple(mine.shape)} in the classifier, {tuple(given.shape)} in "
                    "the language model (a checkpoint of another vocabulary or size): build the classifier "
                    "with sentiment_gpt(the language model's recipe)")
            mine.assign(given)
            copied += 1
    return copied


def load_or_pretrain(models_dir, recipe=GPT_RECIPE, echo=print):
    """Notebook 10's tokenizer and trained language model, from `models_dir`, or made there as notebook 10 makes them.

    Loads <models_dir>/10_bpe_<vocab_size>.json and 10_gpt.keras when they
    exist (notebook 10 wrote them); else learns the BPE from
    `lm_reviews(recipe)` (training + unlabelled reviews, never the test
    ones), encodes them and trains `gpt_model(recipe)` for recipe.minutes
    with `train_gpt`, saving all of it there as notebook 10 does. Returns
    (tokenizer, language_model, record), record as `load_gpt` gives it.
    """
    from pathlib import Path

    from helpers.generation import gpt_model, lm_reviews, load_gpt, save_gpt, train_gpt
    from helpers.tokens import load_or_encode, load_or_train_bpe

    models_dir = Path(models_dir)
    checkpoint, bpe = models_dir / "10_gpt.keras", models_dir / f"10_bpe_{recipe.vocab_size}.json"
    if checkpoint.exists() and bpe.exists():
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(bpe)), *load_gpt(checkpoint)
    lm_texts, _ = lm_reviews(recipe)
    tokenizer, _ = load_or_train_bpe(lm_texts, bpe, recipe.vocab_size)
    stream, _ = load_or_encode(tokenizer, lm_texts, models_dir / "10_train_stream.npz")
    echo(f"no language model in {models_dir.name}/: pretraining one for {recipe.minutes:g} min, as notebook 10 does")
    keras.utils.set_random_seed(recipe.seed)
    model = gpt_model(recipe)
    record = train_gpt(model, stream, recipe, echo=echo)
    save_gpt(checkpoint, model, record, recipe)
    return tokenizer, *load_gpt(checkpoint)


def review_ids(tokenizer, texts, length):
    """(len(texts), length) int32: EOT, then the first length - 1 BPE tokens of each review, then EOT padding.

    texts: raw aclImdb reviews (cleaned here, as the language model's were);
    tokenizer: notebook 10's BPE (`helpers.tokens.load_or_train_bpe`).
    """
    if isinstance(texts, str) or len(texts) == 0:
        raise ValueError("texts must be a non-empty list of reviews (str)")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"length must be an int >= 2 (EOT and at least one token); got {length!r}")
    ids = np.full((len(texts), length), EOT_ID, dtype=np.int32)
    for row, encoded in enumerate(tokenizer.encode_batch([clean_review(text) for text in texts])):
        tokens = encoded.ids[:length - 1]
        ids[row, 1:1 + len(tokens)] = tokens
    return ids


@dataclass(frozen=True)
class FineTuneRecipe:
    """How notebook 13 trains a `sentiment_gpt`, from the language model or from scratch alike.

    length: tokens read per review (EOT included, <= the model's context);
    head_steps: first steps with the body frozen, at head_learning_rate, so
    that the random head does not send large gradients into the pretrained
    body (gradual unfreezing, Howard & Ruder 2018; 0: none); then every weight
    for `epochs` epochs, AdamW (weight_decay), the rate warming up over
    warmup_fraction of the steps to learning_rate, then a cosine to 0;
    batch_size reviews of similar length per step; dropout in the blocks and
    before the head.
    """

    length: int = 320
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 1e-3
    head_steps: int = 100
    head_learning_rate: float = 3e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    dropout: float = 0.1

    def replace(self, **changes):
        """This recipe with some fields changed; an unknown name is a ValueError listing the fields."""
        return replace_fields(self, changes)


FINE_TUNE_RECIPE = pick(full=FineTuneRecipe(), quick=FineTuneRecipe(length=64, epochs=1, head_steps=5))
# The same model from random weights: nothing to protect, so no frozen start; the same rate (notebook 07's).
SCRATCH_RECIPE = FINE_TUNE_RECIPE.replace(head_steps=0)


def _labels(labels, count):
    labels = np.asarray(labels)
    if labels.shape != (count,) or not np.all(np.isin(labels, (0, 1))):
        raise ValueError(f"labels must be 0 or 1, one per review ({count},); got shape {labels.shape} "
                         f"with values {np.unique(labels)[:5].tolist()}")
    return labels.astype("int32")


def _compile(model, learning_rate, weight_decay):
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay),
                  loss="binary_crossentropy", metrics=["accuracy"])


def fine_tune(model, token_ids, labels, recipe=FINE_TUNE_RECIPE, seed=0, verbose=2):
    """Train a `sentiment_gpt` on labelled reviews as `recipe` says; returns TrainedClassifier(model, history, seconds).

    token_ids: (reviews, n) from `review_ids`; labels: 0/1 (reviews,). The
    batches are `length_buckets` of recipe.batch_size, shuffled with seed.
    First recipe.head_steps steps train the head alone (the body frozen),
    then every weight trains for recipe.epochs epochs under a warm-up +
    cosine schedule. history: Keras's History of the second phase (one
    entry per epoch); seconds: wall clock of both phases.
    """
    labels = _labels(labels, len(token_ids))
    keras.utils.set_random_seed(seed)
    batches = length_buckets(token_ids, labels, batch_size=recipe.batch_size, seed=seed)
    start = time.perf_counter()
    body = body_layers(model)
    if recipe.head_steps:
        for layer in body:
            layer.trainable = False
        _compile(model, recipe.head_learning_rate, recipe.weight_decay)
        model.fit(batches.repeat(), epochs=1, steps_per_epoch=recipe.head_steps, verbose=0, shuffle=False)
        for layer in body:
            layer.trainable = True
    steps = recipe.epochs * int(batches.cardinality())
    _compile(model, warmup_cosine(recipe.learning_rate, steps, int(recipe.warmup_fraction * steps)),
             recipe.weight_decay)
    history = model.fit(batches, epochs=recipe.epochs, verbose=verbose, shuffle=False)
    return TrainedClassifier(model, history, time.perf_counter() - start)


def load_or_fine_tune(path, build, token_ids, labels, recipe=FINE_TUNE_RECIPE, seed=0, verbose=2):
    """The classifier saved at `path` (.keras), or `build()` fine-tuned on (token_ids, labels) and saved there.

    build: a function of no arguments returning the model to train (a
    `sentiment_gpt`, its body copied or not). Returns (model, seconds):
    seconds of `fine_tune`, None when loaded.
    """
    from pathlib import Path

    from helpers.data import write_whole

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras; got {str(path)!r}")
    if path.exists():
        return keras.models.load_model(path), None
    keras.utils.set_random_seed(seed)
    model, _, seconds = fine_tune(build(), token_ids, labels, recipe, seed=seed, verbose=verbose)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, model.save)
    return model, seconds


def curve_recipe(recipe, n_reviews, min_steps):
    """`recipe` for a run on n_reviews: as many epochs as it takes to make at least min_steps steps."""
    per_epoch = -(-n_reviews // recipe.batch_size)
    return recipe.replace(epochs=max(recipe.epochs, -(-min_steps // per_epoch)),
                          head_steps=min(recipe.head_steps, per_epoch))


# The learning curve of notebook 13 and bench/transfer.py: labelled reviews -> seeds, and the fewest steps a run makes.
LEARNING_CURVE = pick(full={250: 3, 1_000: 3, 5_000: 1}, quick={40: 1})
CURVE_MIN_STEPS = pick(full=100, quick=2)


def learning_curve(runs, token_ids, labels, eval_ids, eval_labels, sizes=None, min_steps=None, echo=print):
    """Accuracy against the number of labelled reviews, for each run and seed.

    runs: {name: (build, recipe)}, build() returning a fresh model; for each
    n, seeds in `sizes` ({n: seeds}, default LEARNING_CURVE), a random subset
    of n rows of (token_ids, labels) drawn with the seed, the initial weights
    set by the seed, trained with `curve_recipe(recipe, n, min_steps)` and
    measured on (eval_ids, eval_labels). Returns a list of {"model", "n",
    "seed", "accuracy"}.
    """
    from helpers.training import predict_in_buckets

    sizes = LEARNING_CURVE if sizes is None else sizes
    min_steps = CURVE_MIN_STEPS if min_steps is None else min_steps
    labels, eval_labels = np.asarray(labels), np.asarray(eval_labels)
    points, started = [], time.perf_counter()
    for n, seeds in sizes.items():
        for seed in range(seeds):
            rows = np.random.default_rng(seed).choice(len(token_ids), n, replace=False)
            for name, (build, recipe) in runs.items():
                keras.utils.set_random_seed(seed)   # the initial weights: the head, and the body from scratch
                model = fine_tune(build(), token_ids[rows], labels[rows], curve_recipe(recipe, n, min_steps),
                                  seed=seed, verbose=0).model
                hit = np.mean((predict_in_buckets(model, eval_ids)[:, 0] > 0.5) == eval_labels)
                points.append({"model": name, "n": int(n), "seed": seed, "accuracy": float(hit)})
            echo(f"n = {n:5,}, seed {seed}: done after {(time.perf_counter() - started) / 60:.1f} min")
    return points


def weight_change(before, after):
    """{layer name: ||W_after - W_before|| / ||W_before||} over each body layer's weights together.

    before, after: two models with the same body (e.g. the language model and
    the fine-tuned classifier).
    """
    changes = {}
    for old, new in zip(body_layers(before), body_layers(after)):
        if old.name != new.name:
            raise ValueError(f"the two bodies differ: layer {old.name} against {new.name}")
        a = np.concatenate([np.ravel(w) for w in old.get_weights()])
        b = np.concatenate([np.ravel(w) for w in new.get_weights()])
        changes[old.name] = float(np.linalg.norm(b - a) / np.linalg.norm(a))
    return changes


def attention_maps(model, token_ids):
    """Every head's weights of a GPT body on one text: (num_layers, num_heads, n, n), float32.

    model: a `sentiment_gpt` or `gpt_model` model; token_ids: (n,) or (1, n).
    """
    ids = np.asarray(token_ids, dtype="int32").reshape(1, -1)
    body = body_layers(model)
    x = body[0](ops.convert_to_tensor(ids))
    maps = []
    for block in body[1:-1]:
        x, weights = block(x, training=False, return_attention_scores=True)
        maps.append(ops.convert_to_numpy(weights)[0])
    return np.stack(maps).astype(np.float32)
