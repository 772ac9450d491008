"""Training utilities shared by the notebooks that train real models (07 onwards).

    warmup_cosine(peak, total_steps, warmup_steps)
        lr(t) = peak * t / warmup_steps                                   t <= warmup_steps
        lr(t) = peak * (alpha + (1 - alpha) * (1 + cos(pi * s)) / 2)      s = (t - warmup) / (total - warmup)

A short linear warm-up keeps the first, noisy Adam steps small while the
attention layers are still random; the cosine then anneals the rate to
`alpha * peak` at the last step, so training ends on small, careful steps.

    length_buckets(token_ids, labels, batch_size)   batches of similar length, cut to their longest row
    predict_in_buckets(model, token_ids)            model.predict the same way, in the rows' order
    EpochLog()                                      live progress while fit runs, one line per epoch
    replace_fields(recipe, changes)                 a recipe (frozen dataclass) with some fields changed
    recipe_arguments(recipe, kind, builder)         the recipe's fields that builder takes: all its arguments
    refuse_other_recipe(checkpoint, differences)    the error for a cached model of another recipe
    load_or_fit(path, setting, build, fit)          a model's weights cached with what its fit recorded
    add_recipe_flags(parser, recipe), recipe_from_flags(args, recipe)   every field as a command-line flag

Attention costs ~ n^2 per sequence: for a model that masks its padding,
cutting each batch to its longest row gives the same loss for a fraction of
the work when most sequences are much shorter than the longest.
"""
import hashlib
import inspect
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import keras
from keras import ops

from helpers.data import write_whole

__all__ = ["warmup_cosine", "learning_rates", "length_buckets", "predict_in_buckets", "EpochLog", "replace_fields",
           "recipe_arguments", "refuse_other_recipe", "load_or_fit", "add_recipe_flags", "recipe_from_flags"]


def replace_fields(recipe, changes):
    """dataclasses.replace(recipe, **changes), with a ValueError that lists the fields for an unknown name."""
    names = [f.name for f in fields(recipe)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise ValueError(f"{unknown} are not fields of {type(recipe).__name__}; its fields are {names}")
    return replace(recipe, **changes)


def recipe_arguments(recipe, kind, builder):
    """{name: recipe.name} for every argument of `builder`, so that none can be left out.

    kind: the recipe class `recipe` must be an instance of (a TypeError names
    it otherwise); builder: the function that builds the model.
    """
    if not isinstance(recipe, kind):
        raise TypeError(f"recipe must be a {kind.__name__}; got {type(recipe).__name__}")
    return {name: getattr(recipe, name) for name in inspect.signature(builder).parameters}


def refuse_other_recipe(checkpoint, differences, companion):
    """Raise the ValueError for a model cached at `checkpoint` (a Path) that is not this recipe's.

    differences: {field: (in the recipe, in the file)}, or None when the file
    holds no recipe; companion: the name of the file saved beside it.
    """
    listed = ("it was saved without its recipe" if differences is None else ", ".join(
        f"{name} {want!r} in the recipe, {got!r} in the file" for name, (want, got) in differences.items()))
    raise ValueError(f"the model cached at {checkpoint.name} is not this recipe's ({listed}); "
                     f"delete {checkpoint.name} and {companion} to train it again")


def load_or_fit(path, setting, build, fit):
    """(model, record, cached): `build()`'s model with the weights cached at `path` if they were fitted with `setting`.

    Otherwise `fit(model)` trains it and returns `record`, and both are saved.
    path: a file ending in .weights.h5; <name>.json beside it keeps
    {"setting": sha256 of json.dumps(setting), "record": record}.
    setting: everything that decides the fit (sizes, seed, learning rate, a
    digest of the data, ...) as JSON can hold it; a cache made with another
    setting is fitted again and overwritten. build(): the uncompiled model,
    the same architecture at every call (set the seed inside it); record: a
    dict JSON can hold (results, per-epoch history). cached: True when the
    weights were loaded, False when they were fitted now.
    """
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"path must end in .weights.h5; got {path.name!r}")
    try:
        digest = hashlib.sha256(json.dumps(setting).encode()).hexdigest()
    except TypeError as error:
        raise TypeError(f"setting must hold only what JSON can write (numbers, strings, lists, dicts): "
                        f"{error}") from None
    saved_at = path.with_name(path.name[: -len(".weights.h5")] + ".json")
    model = build()
    if path.exists() and saved_at.exists():
        saved = json.loads(saved_at.read_text(encoding="utf-8"))
        if saved.get("setting") == digest and "record" in saved:
            model.load_weights(path)
            return model, saved["record"], True
    record = fit(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, model.save_weights)      # another process never reads half a file
    write_whole(saved_at, lambda tmp: tmp.write_text(json.dumps({"setting": digest, "record": record}),
                                                     encoding="utf-8"))
    return model, record, False


def add_recipe_flags(parser, recipe, title):
    """Add one flag per field of `recipe` to an argparse parser (--batch-size 64, --norm-first false, ...)."""
    group = parser.add_argument_group(title)
    for field in fields(recipe):
        value = getattr(recipe, field.name)
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            group.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes"), default=value,
                               metavar="BOOL")
        else:
            group.add_argument(flag, type=type(value), default=value)


def recipe_from_flags(args, recipe):
    """`recipe` with every field replaced by the parsed flag of `add_recipe_flags`."""
    return recipe.replace(**{field.name: getattr(args, field.name) for field in fields(recipe)})


def warmup_cosine(peak, total_steps, warmup_steps=0, alpha=0.0):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then cosine decay to `alpha * peak`.

    peak: the largest learning rate (> 0); total_steps: optimizer steps of the
    whole training (epochs * batches per epoch); warmup_steps: in [0, total_steps);
    alpha: the final rate as a fraction of peak, in [0, 1]. Returns Keras's own
    `keras.optimizers.schedules.CosineDecay`, which serialises with a model.
    """
    if not (isinstance(peak, (int, float, np.floating)) and peak > 0):
        raise ValueError(f"peak must be a positive learning rate; got {peak!r}")
    for name, value in (("total_steps", total_steps), ("warmup_steps", warmup_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int number of optimizer steps; got {value!r}")
    if total_steps < 1 or not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"warmup_steps must lie in [0, total_steps) and total_steps be >= 1; "
            f"got warmup_steps = {warmup_steps}, total_steps = {total_steps}"
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a fraction of peak in [0, 1]; got {alpha!r}")
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup_steps else float(peak),
        decay_steps=int(total_steps - warmup_steps),
        alpha=float(alpha),
        warmup_target=float(peak) if warmup_steps else None,
        warmup_steps=int(warmup_steps),
    )


def learning_rates(schedule, total_steps):
    """The rate `schedule` gives at steps 0, 1, ..., total_steps - 1, as a NumPy array (total_steps,)."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps < 1:
        raise ValueError(f"total_steps must be a positive int; got {total_steps!r}")
    return np.array([float(ops.convert_to_numpy(schedule(step))) for step in range(total_steps)])


def _lengths(token_ids):
    """Real length of each row: one past its last non-zero id (padding is trailing)."""
    nonzero = token_ids != 0
    return np.where(nonzero.any(axis=1), token_ids.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def _check_ids(token_ids, labels=None):
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(
            f"token_ids must be integers of shape (n, seq_len); got {token_ids.dtype} of shape {token_ids.shape}"
        )
    if labels is not None and len(labels) != len(token_ids):
        raise ValueError(f"labels must have one entry per row: {len(token_ids)} rows, {len(labels)} labels")
    return token_ids


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}")


def _bucket(lengths, batch_size, rng=None, pool=50):
    """Row indices batch by batch, rows of similar length together.

    rng None: every row sorted by length, in order. Else: shuffle the rows,
    sort each pool of `pool` batches by length, cut it into batches, and
    shuffle the batches, so every epoch sees new batches in a new order.
    """
    def cut(rows):
        return np.array_split(rows, range(batch_size, len(rows), batch_size))

    if rng is None:
        return cut(np.argsort(lengths, kind="stable"))
    order = rng.permutation(len(lengths))
    span = batch_size * pool
    batches = []
    for start in range(0, len(order), span):
        chunk = order[start:start + span]
        batches += cut(chunk[np.argsort(lengths[chunk], kind="stable")])
    return [batches[i] for i in rng.permutation(len(batches))]


def _width(lengths, multiple, seq_len):
    """The longest of `lengths`, rounded up to a multiple of `multiple`, at most seq_len."""
    return min(-(-max(int(lengths.max()), 1) // multiple) * multiple, seq_len)


def _pipeline(token_ids, labels, batches, count, multiple):
    """tf.data of (token_ids[rows, :width], labels[rows]) for each of the `count` `rows`
    that `batches()` yields.

    The shapes are left open, (None, None), so Keras traces its step once for every width.
    """
    import tensorflow as tf

    lengths, seq_len = _lengths(token_ids), token_ids.shape[1]

    def generate():
        for rows in batches():
            x = token_ids[rows, :_width(lengths[rows], multiple, seq_len)]
            yield (x,) if labels is None else (x, labels[rows])

    signature = (tf.TensorSpec((None, None), tf.as_dtype(token_ids.dtype)),)
    if labels is not None:
        signature += (tf.TensorSpec((None,), tf.as_dtype(labels.dtype)),)
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    # Tell Keras how many batches a pass has (a generator does not say).
    return data.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)


def length_buckets(token_ids, labels, batch_size=32, seed=0, multiple=32, pool=50):
    """A shuffled tf.data pipeline of batches of similar length, each cut to its longest row.

    token_ids: integers (n, seq_len), 0 = padding at the END of each row (as
    `TextVectorization` writes it); labels: (n,). Yields (token ids (batch,
    width), labels (batch,)), width = the batch's longest row rounded up to
    a multiple of `multiple`, at most seq_len: every real token is kept, only
    padding is cut. Each pass (epoch) reshuffles: rows sorted by length
    within pools of `pool` batches, then the batches shuffled. For a model
    that masks its padding the loss is that of padded batches, but the
    attention costs ~ width^2 instead of seq_len^2.
    """
    token_ids = _check_ids(token_ids, labels)
    for name, value in (("batch_size", batch_size), ("multiple", multiple), ("pool", pool)):
        _positive(name, value)
    labels, lengths = np.asarray(labels), _lengths(token_ids)
    rng = np.random.default_rng(seed)
    count = -(-len(lengths) // batch_size)  # every pool but the last holds whole batches
    return _pipeline(token_ids, labels, lambda: _bucket(lengths, batch_size, rng, pool), count, multiple)


def predict_in_buckets(model, token_ids, batch_size=64, multiple=32):
    """model.predict(token_ids), computed in batches of similar length, in the rows' order.

    token_ids: integers (n, seq_len), 0 = padding at the end of each row.
    For a model that masks its padding this gives the same numbers as
    predicting on the padded rows, faster when most rows are short.
    Returns a NumPy array (n, ...) of the model's outputs.
    """
    token_ids = _check_ids(token_ids)
    _positive("batch_size", batch_size)
    _positive("multiple", multiple)
    batches = _bucket(_lengths(token_ids), batch_size)
    outputs = model.predict(_pipeline(token_ids, None, lambda: batches, len(batches), multiple), verbose=0)
    result = np.empty_like(outputs)
    result[np.concatenate(batches)] = outputs
    return result


def _minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


class EpochLog(keras.callbacks.Callback):
    """Live progress while `fit` runs, and one line per epoch that stays in the output.

    While training, one line is rewritten in place (at most every `every`
    seconds): epoch, step, the loss so far and the time left, estimated from
    the mean time per step so far. At the end of each epoch it prints one
    line with the epoch's seconds and every metric Keras logged (val_...
    included). In Jupyter the live line is a display updated in place (an
    executed notebook keeps only its last state, "done"); in a terminal, a
    line rewritten with a carriage return, then cleared. The caller reports
    the total time (fit's own set-up happens before any callback runs). Use
    with `fit(..., verbose=0)`.
    """

    def __init__(self, every=1.0):
        super().__init__()
        self.every = float(every)
        self._handle = None

    @staticmethod
    def _where():
        """"notebook" (a Jupyter kernel), "terminal" (a tty) or None (a log file: no live line)."""
        try:
            from IPython import get_ipython
        except ImportError:
            get_ipython = lambda: None  # noqa: E731
        if getattr(get_ipython(), "kernel", None) is not None:
            return "notebook"
        return "terminal" if getattr(sys.stdout, "isatty", lambda: False)() else None

    def _show(self, text):
        if self._where_shown == "notebook":
            from IPython.display import Pretty, display

            if self._handle is None:
                self._handle = display(Pretty(text), display_id=True)
            else:
                self._handle.update(Pretty(text))
        elif self._where_shown == "terminal":
            sys.stdout.write("\r" + text.ljust(100))
            sys.stdout.flush()

    def on_train_begin(self, logs=None):
        self._epochs, self._steps = self.params.get("epochs", 1), self.params.get("steps")
        self._start = self._shown = time.perf_counter()
        self._handle, self._where_shown = None, self._where()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._epoch_start = epoch, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if now - self._shown < self.every:
            return
        self._shown = now
        step = f"step {batch + 1}" + (f"/{self._steps}" if self._steps else "")
        text = f"epoch {self._epoch + 1}/{self._epochs} · {step} · loss {(logs or {}).get('loss', float('nan')):.3f}"
        if self._steps:
            done = self._epoch * self._steps + batch + 1
            left = (now - self._start) / done * (self._epochs * self._steps - done)
            text += f" · about {_minutes(left)} left"
        self._show(text)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._epoch_start
        metrics = "  ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items()
                            if name != "learning_rate")
        if self._where_shown == "terminal":
            sys.stdout.write("\r")
        print(f"epoch {epoch + 1}/{self._epochs}  {seconds:4.0f} s  {metrics}".ljust(100).rstrip(), flush=True)

    def on_train_end(self, logs=None):
        if self._handle is not None:
            self._show(f"done: {self._epochs} epoch(s), the log below")
        elif self._where_shown == "terminal":
            sys.stdout.write("\r" + " " * 100 + "\r")
