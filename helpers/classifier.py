"""A Transformer encoder that reads a review and says how positive it is (notebook 07).

    token ids (batch, n)
      -> TokenDropout (training only)               a few words replaced by [UNK]
      -> PositionalEmbedding(mask_zero=True)        (batch, n, d_model), padding mask (batch, n)
      -> Dropout
      -> TransformerEncoderBlock x num_layers        padding never attended to
      -> MaskedGlobalPooling ("mean" or "max")       (batch, d_model), padding never pooled
      -> Dropout -> Dense(1, sigmoid)                P(positive) (batch, 1)

Token id 0 is padding (what `TextVectorization` writes after a short review).
Unlike the Keras example (keras.io "Text classification with Transformer"),
padding is masked twice: no query attends to a padding key, and the pooled
vector averages the real tokens only, so appending more padding, or whatever
the padding positions hold, never changes the prediction.

`attention_maps` reads back every head's weights of a trained model;
`save_classifier` / `load_classifier` keep a model with its vocabulary.
"""
import json
import time
from collections import namedtuple
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import keras
from keras import ops

from helpers.data import write_whole
from helpers.layers import PositionalEmbedding, TransformerEncoderBlock
from helpers.masks import _positive_int
from helpers.training import (EpochLog, length_buckets, recipe_arguments, refuse_other_recipe, replace_fields,
                              warmup_cosine)

__all__ = [
    "ClassifierRecipe",
    "IMDB_RECIPE",
    "classifier_from_recipe",
    "train_classifier",
    "recipe_differences",
    "load_or_train_classifier",
    "TokenDropout",
    "MaskedGlobalPooling",
    "transformer_classifier",
    "attention_maps",
    "save_classifier",
    "load_classifier",
]

POOLINGS = ("mean", "max")

@dataclass(frozen=True)
class ClassifierRecipe:
    """Everything a classifier of notebook 07 is made from: the model and its training.

    Model (the arguments of `transformer_classifier`, same names): vocab_size
    (tokens kept, padding and [UNK] included), seq_len (tokens read per
    review), d_model, num_heads, d_ff, num_layers, dropout, token_dropout
    (words replaced by [UNK] while training), positions ("sinusoidal" or
    "learned"), pooling ("mean" or "max"), norm_first (pre-LN blocks),
    attention_kind ("softmax" or "linear" heads), masked (padding hidden
    from attention and pooling). Training
    (`train_classifier`): epochs over batches of batch_size reviews of
    similar length, AdamW with weight_decay, the learning rate warming up to
    learning_rate over warmup_fraction of all steps, then a cosine to 0.

    Build the model with `classifier_from_recipe(recipe)`; vary a recipe with
    `recipe.replace(name=value, ...)`, never by copying its fields by hand.
    """

    vocab_size: int = 10_000
    seq_len: int = 512
    d_model: int = 64
    num_heads: int = 4
    d_ff: int = 128
    num_layers: int = 2
    dropout: float = 0.1
    token_dropout: float = 0.2
    positions: str = "sinusoidal"
    pooling: str = "mean"
    norm_first: bool = False
    attention_kind: str = "softmax"
    masked: bool = True
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01

    def replace(self, **changes):
        """This recipe with some fields changed; an unknown name is a ValueError listing the fields."""
        return replace_fields(self, changes)


# What notebook 07 trains in full mode, chosen with `python bench/imdb.py --validation`
# (5,000 training reviews of held-out movies; never the test set).
IMDB_RECIPE = ClassifierRecipe()


@keras.saving.register_keras_serializable(package="helpers")
class TokenDropout(keras.layers.Layer):
    """While training, replace each real word by [UNK] with probability `rate`.

        ids'_i = unk_id   with probability rate, if ids_i is a word (ids_i > unk_id)
        ids'_i = ids_i    otherwise (padding 0 and [UNK] stay as they are)

    A regulariser for text: the model cannot lean on any one word (an actor's
    name, a title) and must read the rest of the review. Outside training the
    ids pass unchanged. Call with integer token_ids (batch, n); returns the
    same shape and dtype.
    """

    def __init__(self, rate, unk_id=1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"rate must be a probability in [0, 1); got {rate}")
        self.rate, self.unk_id = float(rate), int(unk_id)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, token_ids, training=False):
        if not training or self.rate == 0:
            return token_ids
        drop = keras.random.uniform(ops.shape(token_ids), seed=self.seed_generator) < self.rate
        drop = ops.logical_and(drop, token_ids > self.unk_id)
        return ops.where(drop, ops.cast(self.unk_id, token_ids.dtype), token_ids)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "unk_id": self.unk_id, "seed": self.seed}


@keras.saving.register_keras_serializable(package="helpers")
class MaskedGlobalPooling(keras.layers.Layer):
    """One vector per sequence from its real tokens only.

        mean:  sum_i m_i x_i / max(1, sum_i m_i)
        max:   max over the i with m_i = 1 of x_i   (0 when there is none)

    with m_i = 1 at a real token, 0 at padding. pooling: "mean" or "max".
    Call with x (batch, n, d) and mask (batch, n), boolean, True at real
    tokens (Keras passes it on from `PositionalEmbedding(mask_zero=True)`);
    without a mask every position counts. Returns (batch, d). A row with no
    real token gives zeros, never NaN.
    """

    def __init__(self, pooling="mean", **kwargs):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}")
        self.pooling = pooling
        self.supports_masking = True

    def call(self, x, mask=None):
        if len(x.shape) != 3:
            raise ValueError(f"x must have shape (batch, n, d); got shape {tuple(x.shape)}")
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        elif tuple(mask.shape) != tuple(x.shape[:2]) and None not in mask.shape:
            raise ValueError(
                f"mask must have shape (batch, n) = {tuple(x.shape[:2])}; got shape {tuple(mask.shape)}"
            )
        real = ops.expand_dims(ops.cast(mask, x.dtype), axis=-1)
        if self.pooling == "mean":
            count = ops.maximum(ops.sum(real, axis=1), 1.0)
            return ops.sum(x * real, axis=1) / count
        pooled = ops.max(ops.where(real > 0, x, ops.full_like(x, -1e9)), axis=1)
        return ops.where(ops.sum(real, axis=1) > 0, pooled, 0.0)

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "pooling": self.pooling}


def transformer_classifier(vocab_size, seq_len, d_model=64, num_heads=4, d_ff=128, num_layers=1,
                           dropout=0.1, pooling="mean", norm_first=False, token_dropout=0.0,
                           positions="learned", attention_kind="softmax", masked=True):
    """An (uncompiled) binary classifier: token ids (batch, n) -> P(positive) (batch, 1).

    vocab_size: token ids run from 0 (padding) to vocab_size - 1; seq_len:
    the most tokens a review may have (n <= seq_len: a batch may be cut to
    its longest review, see `helpers.training.length_buckets`); d_model: size
    of each token vector; num_heads: heads of d_model / num_heads each; d_ff:
    hidden size of each feed-forward network; num_layers: encoder blocks;
    dropout: rate after the embedding, in each block and before the output;
    pooling: "mean" or "max" over the real tokens (`MaskedGlobalPooling`);
    norm_first: pre-LN blocks, with a final LayerNorm before pooling (post-LN,
    the paper's, when False); token_dropout: the rate of `TokenDropout` on
    the input words while training (0: none); positions: "learned" or
    "sinusoidal", the kind of `PositionalEmbedding`; attention_kind: "softmax"
    or "linear", the heads of every block (`TransformerEncoderBlock`);
    masked: padding (id 0) hidden from attention and pooling (False: every
    position counts, padding included, as in a model that forgets its mask;
    for the masking ablation of notebook 07). A recipe's model is `classifier_from_recipe(recipe)`. The layers are named
    "token_dropout", "embedding", "block_0", "block_1", ..., "pooling",
    "p_positive".
    """
    vocab_size, seq_len = _positive_int("vocab_size", vocab_size), _positive_int("seq_len", seq_len)
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2 (padding and at least one token); got {vocab_size}")
    num_layers = _positive_int("num_layers", num_layers)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1); got {dropout}")
    if not 0 <= token_dropout < 1:
        raise ValueError(f"token_dropout must be a rate in [0, 1); got {token_dropout}")
    # Any length n <= seq_len: a batch of short reviews need not be padded to seq_len.
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    words = TokenDropout(token_dropout, name="token_dropout")(token_ids)
    x = PositionalEmbedding(vocab_size, seq_len, d_model, kind=positions, mask_zero=bool(masked),
                            name="embedding")(words)
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x = TransformerEncoderBlock(d_model, num_heads, d_ff, dropout=dropout, norm_first=norm_first,
                                    attention_kind=attention_kind, name=f"block_{i}")(x)
    if norm_first:  # pre-LN blocks leave the residual stream unnormalised
        x = keras.layers.LayerNormalization(name="final_norm")(x)
    x = MaskedGlobalPooling(pooling, name="pooling")(x)
    x = keras.layers.Dropout(dropout, name="pooled_dropout")(x)
    p_positive = keras.layers.Dense(1, activation="sigmoid", name="p_positive")(x)
    return keras.Model(token_ids, p_positive, name="transformer_classifier")


def classifier_from_recipe(recipe=IMDB_RECIPE):
    """The (uncompiled) `transformer_classifier` that `recipe` describes: token ids (batch, n) -> (batch, 1).

    Every argument of `transformer_classifier` is read from the recipe, so a
    field cannot be left out. For another size, pass `recipe.replace(...)`.
    """
    return transformer_classifier(**recipe_arguments(recipe, ClassifierRecipe, transformer_classifier))


TrainedClassifier = namedtuple("TrainedClassifier", "model history seconds")


def train_classifier(recipe, token_ids, labels, seed=0, verbose=2):
    """Build `recipe`'s classifier and train it as the recipe says.

    token_ids: integers (reviews, n), 0 = padding; labels: 0/1 (reviews,).
    `keras.utils.set_random_seed(seed)` fixes the initial weights, the
    batches (`length_buckets`, shuffled with `seed`) and dropout. AdamW
    (recipe.weight_decay) with a linear warm-up over recipe.warmup_fraction
    of the steps to recipe.learning_rate, then a cosine to 0
    (`warmup_cosine`), recipe.epochs epochs; verbose: show `EpochLog`
    (a live line with the time left, then one line per epoch; 0: silent).
    Returns TrainedClassifier(model, history, seconds):
    the trained model, Keras's History (loss and accuracy per epoch) and
    the wall-clock seconds of `fit`.
    """
    keras.utils.set_random_seed(seed)
    model = classifier_from_recipe(recipe)
    batches = length_buckets(token_ids, labels, batch_size=recipe.batch_size, seed=seed)
    steps = recipe.epochs * int(batches.cardinality())
    schedule = warmup_cosine(recipe.learning_rate, steps, int(recipe.warmup_fraction * steps))
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay),
                  loss="binary_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(batches, epochs=recipe.epochs, verbose=0, shuffle=False,
                        callbacks=[EpochLog()] if verbose else [])
    return TrainedClassifier(model, history, time.perf_counter() - start)


def _parts(model):
    """The embedding and the encoder blocks of a `transformer_classifier` model."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model from transformer_classifier; got {type(model).__name__}")
    embeddings = [layer for layer in model.layers if isinstance(layer, PositionalEmbedding)]
    blocks = [layer for layer in model.layers if isinstance(layer, TransformerEncoderBlock)]
    if len(embeddings) != 1 or not blocks:
        raise ValueError(
            "model must hold one PositionalEmbedding and at least one TransformerEncoderBlock "
            f"(a model from transformer_classifier); got {len(embeddings)} and {len(blocks)}"
        )
    return embeddings[0], blocks


def attention_maps(model, token_ids, batch_size=16):
    """Every head's attention weights of a `transformer_classifier` on `token_ids`.

    model: a (trained) model from `transformer_classifier` or `load_classifier`;
    token_ids: integers (batch, n), n <= the model's seq_len, 0 = padding.
    Runs the model's own embedding and blocks (no dropout) with
    return_attention_scores=True, `batch_size` reviews at a time.
    Returns float32 NumPy weights (batch, num_layers, num_heads, n, n):
    entry [b, l, h, i, j] is how much query token i attends to key token j
    in head h of block l. Each row sums to 1 over the real keys and is 0 at
    padding keys (and all 0 for a padding query with no real key).
    """
    embedding, blocks = _parts(model)
    token_ids = np.asarray(token_ids)
    if not np.issubdtype(token_ids.dtype, np.integer):
        raise TypeError(f"token_ids must hold integer token ids; got dtype {token_ids.dtype}")
    if token_ids.ndim != 2 or not 1 <= token_ids.shape[1] <= embedding.max_length:
        raise ValueError(
            f"token_ids must have shape (batch, n), 1 <= n <= seq_len = {embedding.max_length}; "
            f"got shape {token_ids.shape}"
        )
    batch_size = _positive_int("batch_size", batch_size)
    n = token_ids.shape[1]
    maps = [np.zeros((0, len(blocks), blocks[0].num_heads, n, n), dtype=np.float32)]
    for start in range(0, len(token_ids), batch_size):
        ids = ops.convert_to_tensor(token_ids[start:start + batch_size], dtype="int32")
        mask = ops.not_equal(ids, 0)
        x = embedding(ids)
        layers = []
        for block in blocks:
            x, weights = block(x, mask=mask, training=False, return_attention_scores=True)
            layers.append(ops.convert_to_numpy(weights))
        maps.append(np.stack(layers, axis=1).astype(np.float32))
    return np.concatenate(maps)


def recipe_differences(model, recipe):
    """{field: (what the recipe says, what the model is)} for each model field where they differ.

    model: a `transformer_classifier` (built, trained or loaded); recipe: a
    `ClassifierRecipe`. Empty when the model is the recipe's.
    """
    expected = recipe_arguments(recipe, ClassifierRecipe, transformer_classifier)
    embedding, blocks = _parts(model)
    first = blocks[0]
    found = {
        "vocab_size": embedding.vocab_size, "seq_len": embedding.max_length, "d_model": embedding.d_model,
        "positions": embedding.kind, "num_layers": len(blocks), "num_heads": first.num_heads,
        "d_ff": first.d_ff, "dropout": first.dropout, "norm_first": first.norm_first,
        "attention_kind": first.attention_kind, "pooling": model.get_layer("pooling").pooling,
        "token_dropout": model.get_layer("token_dropout").rate, "masked": embedding.mask_zero,
    }
    return {name: (expected[name], value) for name, value in found.items() if expected[name] != value}


def load_or_train_classifier(checkpoint, recipe, texts, labels, seed=0, verbose=2):
    """The classifier cached at `checkpoint`, or `recipe`'s trained on (texts, labels) and saved there.

    checkpoint: a .keras path (`save_classifier`); texts: the training
    reviews (strings) and labels 0/1, used only when there is no checkpoint:
    the vocabulary is learned from texts, then `train_classifier(recipe,
    ..., seed)` trains. A checkpoint made from another recipe is refused with
    the fields that differ. Returns (model, vectorizer, seconds): seconds
    of training, None when the model was loaded.
    """
    from helpers.data import make_imdb_vectorizer, texts_to_ids

    checkpoint = Path(checkpoint)
    if checkpoint.exists():
        model, vectorizer = load_classifier(checkpoint)
        differences = recipe_differences(model, recipe)
        if differences:
            refuse_other_recipe(checkpoint, differences, _vocabulary_path(checkpoint).name)
        return model, vectorizer, None
    if len(texts) == 0:
        raise ValueError("texts must hold at least one training review; got an empty list")
    vectorizer = make_imdb_vectorizer(texts, vocab_size=recipe.vocab_size, seq_len=recipe.seq_len)
    model, _, seconds = train_classifier(recipe, texts_to_ids(vectorizer, texts), np.asarray(labels), seed=seed,
                                         verbose=verbose)
    save_classifier(model, vectorizer, checkpoint)
    return model, vectorizer, seconds


def _vocabulary_path(path):
    return path.with_name(path.stem + ".vocab.json")


def save_classifier(model, vectorizer, path):
    """Save `model` to `path` (a .keras file) and the vectorizer's vocabulary beside it.

    vectorizer: the `TextVectorization` whose token ids the model reads
    (its output_sequence_length must be the model's seq_len). Writes `path`
    and <stem>.vocab.json in the same folder (created if missing); returns
    the two paths.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras; got {str(path)!r}")
    embedding, _ = _parts(model)
    seq_len = vectorizer.get_config().get("output_sequence_length")
    if seq_len != embedding.max_length:
        raise ValueError(
            f"vectorizer must produce the model's seq_len = {embedding.max_length} tokens; "
            f"its output_sequence_length is {seq_len}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    vocabulary = json.dumps(vectorizer.get_vocabulary())
    vocabulary_path = write_whole(_vocabulary_path(path),
                                  lambda tmp: tmp.write_text(vocabulary, encoding="utf-8"))
    write_whole(path, model.save)  # last: a reader that sees the model finds its vocabulary
    return path, vocabulary_path


def load_classifier(path, standardize=None):
    """(model, vectorizer) as `save_classifier` left them at `path`.

    standardize: the vectorizer's standardize function (default
    `helpers.data.imdb_standardize`). The vectorizer maps texts to token ids
    (n, seq_len), seq_len the model's, with the saved vocabulary.
    """
    from helpers.data import imdb_standardize

    path = Path(path)
    vocabulary_path = _vocabulary_path(path)
    for needed in (path, vocabulary_path):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed} does not exist: save it first with save_classifier")
    model = keras.models.load_model(path)
    embedding, _ = _parts(model)
    vocabulary = json.loads(vocabulary_path.read_text(encoding="utf-8"))
    vectorizer = keras.layers.TextVectorization(
        output_mode="int",
        output_sequence_length=embedding.max_length,
        standardize=imdb_standardize if standardize is None else standardize,
        vocabulary=vocabulary[2:],  # without "" (padding) and "[UNK]", which it adds itself
    )
    return model, vectorizer
