"""English to Spanish translation with an encoder-decoder Transformer (notebook 09).

    make_vectorizers       English and Spanish TextVectorization, vocabularies from train only
    translation_dataset    tf.data for teacher forcing: (source, target[:-1]) -> target[1:]
    transformer_translator encoder stack + decoder stack (cross-attention) + Dense logits
    TranslatorRecipe, SPA_ENG_RECIPE   the model and its training, one object
    translator_from_recipe, train_translator, load_or_train_translator   built / trained from it
    masked_loss, masked_accuracy   cross-entropy and accuracy over real target tokens only
    greedy_decode, beam_search     token ids out, one token at a time, up to [end]
    translate              texts in, Spanish texts out
    corpus_bleu            sacrebleu's corpus BLEU, one or more references per sentence
    save_translator, load_translator   the model and both vocabularies, together

The data are the spa-eng pairs of `helpers.data` (Tatoeba via www.manythings.org/anki,
CC BY 2.0 France). Token id 0 is padding everywhere, 1 is [UNK].
"""
import json
import time
import weakref
from collections import namedtuple
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import keras
from keras import ops

from helpers.data import spa_standardize, write_whole
from helpers.layers import PositionalEmbedding, TransformerDecoderBlock, TransformerEncoderBlock
from helpers.masks import _positive_int
from helpers.training import EpochLog, recipe_arguments, refuse_other_recipe, replace_fields, warmup_cosine

__all__ = [
    "START",
    "END",
    "group_references",
    "make_vectorizers",
    "translation_dataset",
    "TokenMask",
    "transformer_translator",
    "TranslatorRecipe",
    "SPA_ENG_RECIPE",
    "translator_from_recipe",
    "monitor_sample",
    "train_translator",
    "load_or_train_translator",
    "masked_loss",
    "masked_accuracy",
    "greedy_decode",
    "beam_search",
    "detokenize",
    "translate",
    "attention_maps",
    "corpus_bleu",
    "save_translator",
    "load_translator",
]

START, END = "[start]", "[end]"
BLEU_TOKENIZE = "intl"  # sacrebleu's tokenizer that also splits ¿ ¡ and other Unicode punctuation


def _check_pairs(name, pairs):
    if len(pairs) == 0 or not all(
        len(pair) == 2 and all(isinstance(s, str) for s in pair) for pair in pairs
    ):
        raise ValueError(f"{name} must be a non-empty list of (english, spanish) string pairs")


def group_references(pairs):
    """(sources, references): each distinct English sentence once, in order of first
    appearance, with the list of all its Spanish translations in `pairs`."""
    _check_pairs("pairs", pairs)
    groups = {}
    for english, spanish in pairs:
        groups.setdefault(english, []).append(spanish)
    return list(groups), list(groups.values())


def _with_markers(spanish):
    return [f"{START} {s} {END}" for s in spanish]


def make_vectorizers(train_pairs, source_vocab=10_000, target_vocab=10_000, max_length=20):
    """(source_vectorizer, target_vectorizer), vocabularies learned from `train_pairs` only.

    Both standardize with `helpers.data.spa_standardize` (lowercase, accents and
    ¿ ¡ kept, punctuation as tokens). source_vocab, target_vocab: the most tokens
    kept, counting 0 (padding) and 1 ([UNK]). The source vectorizer maps texts to
    (n, max_length) ids; the target one expects texts wrapped in [start] ... [end]
    and maps them to (n, max_length + 1) ids, so that the decoder's input
    target[:-1] and its labels target[1:] both have max_length positions.
    """
    import tensorflow as tf

    _check_pairs("train_pairs", train_pairs)
    for name, value in (("source_vocab", source_vocab), ("target_vocab", target_vocab)):
        if _positive_int(name, value) < 5:
            raise ValueError(f"{name} must be >= 5 (padding, [UNK], [start], [end], a word); got {value}")
    max_length = _positive_int("max_length", max_length)
    source = keras.layers.TextVectorization(
        max_tokens=source_vocab, output_sequence_length=max_length, standardize=spa_standardize)
    target = keras.layers.TextVectorization(
        max_tokens=target_vocab, output_sequence_length=max_length + 1, standardize=spa_standardize)
    english, spanish = zip(*train_pairs)
    source.adapt(tf.data.Dataset.from_tensor_slices(list(english)).batch(2048))
    target.adapt(tf.data.Dataset.from_tensor_slices(_with_markers(spanish)).batch(2048))
    return source, target


def translation_dataset(pairs, source_vectorizer, target_vectorizer, batch_size=64,
                        shuffle=False, seed=None, drop_long=True):
    """Batches for teacher forcing: ({"source": s, "target": t[:, :-1]}, t[:, 1:]).

    t is the Spanish sentence as [start] ... [end] ids: at position i the decoder
    sees the true tokens 0..i and is trained to predict token i + 1. Each batch
    is cut to its longest sentence, so a batch of short sentences costs less.
    shuffle: reshuffle every epoch, and batch sentences of similar length
    together (less padding). drop_long: leave out pairs cut by the vectorizers
    (the source fills every position, or the target lost its [end]), so the
    model never learns to stop without [end]. The texts are turned into ids
    once, here; an epoch only reads the ids.
    """
    import tensorflow as tf

    _check_pairs("pairs", pairs)
    english, spanish = zip(*pairs)
    end_id = target_vectorizer.get_vocabulary().index(END)
    source = np.asarray(source_vectorizer(list(english)), np.int32)
    target = np.asarray(target_vectorizer(_with_markers(spanish)), np.int32)
    if drop_long:
        fits = (source[:, -1] == 0) & (target == end_id).any(axis=1)
        source, target = source[fits], target[fits]
    data = tf.data.Dataset.from_tensor_slices((source, target))
    if shuffle:
        lengths = (target != 0).sum(axis=1)
        boundaries = list(range(6, target.shape[1], 2))
        per_bucket = np.bincount(np.digitize(lengths, boundaries), minlength=len(boundaries) + 1)
        batches = int(np.ceil(per_bucket / batch_size).sum())
        data = data.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
        data = data.bucket_by_sequence_length(
            lambda s, t: tf.math.count_nonzero(t, dtype=tf.int32),
            boundaries, [batch_size] * (len(boundaries) + 1))
        data = data.shuffle(64, seed=seed).apply(tf.data.experimental.assert_cardinality(batches))
    else:
        data = data.batch(batch_size)
    return data.map(_teacher_forcing).prefetch(tf.data.AUTOTUNE)


def _teacher_forcing(source, target):
    """Cut the batch to its longest sentence; the decoder reads t[:-1] and predicts t[1:]."""
    import tensorflow as tf

    longest = lambda ids: tf.reduce_max(tf.math.count_nonzero(ids, axis=1, dtype=tf.int32))
    source, target = source[:, : longest(source)], target[:, : longest(target)]
    return {"source": source, "target": target[:, :-1]}, target[:, 1:]


@keras.saving.register_keras_serializable(package="helpers")
class TokenMask(keras.layers.Layer):
    """token_ids != 0: True at real tokens, False at padding. (batch, n) -> (batch, n) bool."""

    def call(self, token_ids):
        return ops.not_equal(token_ids, 0)

    def compute_output_spec(self, token_ids):
        return keras.KerasTensor(token_ids.shape, dtype="bool")


def transformer_translator(source_vocab, target_vocab, max_length=20, d_model=128, num_heads=4,
                           d_ff=512, num_layers=2, dropout=0.1, norm_first=True):
    """An encoder-decoder Transformer: {"source": (batch, n_s), "target": (batch, n_t)}
    integer ids -> logits (batch, n_t, target_vocab) for the next target token.

    The encoder (num_layers TransformerEncoderBlock) reads the English source;
    the decoder (num_layers TransformerDecoderBlock) reads the Spanish target so
    far, causally, and attends to the encoder output through cross-attention.
    Padding (id 0) is masked in both. n_s, n_t <= max_length. With norm_first
    (pre-LN) each stack ends in a LayerNorm. The layers are named "source_embedding",
    "encoder_0", ..., "encoder_norm", "target_embedding", "decoder_0", ...,
    "decoder_norm", "logits" (the norms only with norm_first).
    """
    num_layers = _positive_int("num_layers", num_layers)
    source = keras.Input((None,), dtype="int32", name="source")
    target = keras.Input((None,), dtype="int32", name="target")
    source_mask = TokenMask(name="source_mask")(source)
    target_mask = TokenMask(name="target_mask")(target)
    x = PositionalEmbedding(source_vocab, max_length, d_model, name="source_embedding")(source)
    for i in range(num_layers):
        x = TransformerEncoderBlock(d_model, num_heads, d_ff, dropout, norm_first,
                                    name=f"encoder_{i}")(x, mask=source_mask)
    if norm_first:
        x = keras.layers.LayerNormalization(name="encoder_norm")(x)
    context = x
    y = PositionalEmbedding(target_vocab, max_length, d_model, name="target_embedding")(target)
    for i in range(num_layers):
        y = TransformerDecoderBlock(d_model, num_heads, d_ff, dropout, norm_first,
                                    name=f"decoder_{i}")(y, context, x_mask=target_mask,
                                                         context_mask=source_mask)
    if norm_first:
        y = keras.layers.LayerNormalization(name="decoder_norm")(y)
    logits = keras.layers.Dense(target_vocab, name="logits")(y)
    return keras.Model({"source": source, "target": target}, logits, name="translator")


@keras.saving.register_keras_serializable(package="helpers")
def masked_loss(labels, logits):
    """Mean cross-entropy over the real target tokens (labels != 0); padding counts for nothing."""
    mask = ops.cast(ops.not_equal(labels, 0), logits.dtype)
    loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return ops.sum(loss * mask) / ops.maximum(ops.sum(mask), 1.0)


@keras.saving.register_keras_serializable(package="helpers")
def masked_accuracy(labels, logits):
    """Share of real target tokens (labels != 0) whose most likely next token is right."""
    mask = ops.not_equal(labels, 0)
    right = ops.logical_and(ops.equal(ops.cast(ops.argmax(logits, axis=-1), labels.dtype), labels), mask)
    return ops.sum(ops.cast(right, "float32")) / ops.maximum(ops.sum(ops.cast(mask, "float32")), 1.0)


# ---------------------------------------------------------------------- decoding

def _blocks(model, kind):
    return [layer for layer in model.layers if layer.name.startswith(f"{kind}_")
            and isinstance(layer, (TransformerEncoderBlock, TransformerDecoderBlock))]


def _norm(model, name):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def _encode(model, source_ids):
    mask = ops.not_equal(source_ids, 0)
    x = model.get_layer("source_embedding")(source_ids)
    for block in _blocks(model, "encoder"):
        x = block(x, mask=mask)
    norm = _norm(model, "encoder_norm")
    return (norm(x) if norm else x), mask


def _decode(model, target_ids, context, source_mask, return_attention_scores=False):
    y = model.get_layer("target_embedding")(target_ids)
    target_mask = ops.not_equal(target_ids, 0)
    cross = []
    for block in _blocks(model, "decoder"):
        y, _, weights = block(y, context, x_mask=target_mask, context_mask=source_mask,
                              return_attention_scores=True)
        cross.append(weights)
    norm = _norm(model, "decoder_norm")
    logits = model.get_layer("logits")(norm(y) if norm else y)
    return (logits, cross) if return_attention_scores else logits


_COMPILED = weakref.WeakKeyDictionary()


def _functions(model):
    """(encode, next-token log-probabilities), compiled once per model with tf.function."""
    if model not in _COMPILED:
        import tensorflow as tf

        ids = tf.TensorSpec((None, None), tf.int32)

        @tf.function(input_signature=[ids])
        def encode(source_ids):
            return _encode(model, source_ids)

        @tf.function(input_signature=[ids, tf.TensorSpec((None, None, None), tf.float32),
                                      tf.TensorSpec((None, None), tf.bool), tf.TensorSpec((), tf.int32)])
        def log_probs(target_ids, context, source_mask, position):
            logits = _decode(model, target_ids[:, : position + 1], context, source_mask)
            return tf.nn.log_softmax(logits[:, position])

        _COMPILED[model] = encode, log_probs
    return _COMPILED[model]


def _check_ids(name, ids):
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must be integer token ids (batch, n); got {ids.dtype} "
                         f"array of shape {ids.shape}")
    return ids.astype(np.int32)


def _strip(rows, end_id):
    """Token lists cut at the first end_id (excluded) and at padding."""
    out = []
    for row in rows:
        tokens = []
        for token in row:
            if token in (end_id, 0):
                break
            tokens.append(int(token))
        out.append(tokens)
    return out


def greedy_decode(model, source_ids, start_id, end_id, max_length=20, batch_size=256):
    """Translate by taking the most likely next token each step, until [end].

    source_ids: (n, n_s) integer ids. Returns n lists of target token ids,
    without [start] and [end]: at most max_length - 1 tokens each.
    """
    source_ids = _check_ids("source_ids", source_ids)
    encode, log_probs = _functions(model)
    results = []
    for lo in range(0, len(source_ids), batch_size):
        context, mask = encode(source_ids[lo: lo + batch_size])
        n = context.shape[0]
        tokens = np.zeros((n, max_length), np.int32)
        tokens[:, 0] = start_id
        done = np.zeros(n, bool)
        for t in range(max_length - 1):
            best = np.argmax(log_probs(tokens, context, mask, t).numpy(), axis=-1)
            tokens[:, t + 1] = np.where(done, 0, best)
            done |= best == end_id
            if done.all():
                break
        results += _strip(tokens[:, 1:], end_id)
    return results


def _top(scores, k):
    """Indices of the k largest entries of each row, largest first (ties: lower index first)."""
    top = np.argpartition(-scores, k - 1, axis=-1)[:, :k]
    order = np.lexsort((top, -np.take_along_axis(scores, top, axis=-1)), axis=-1)
    return np.take_along_axis(top, order, axis=-1)


def beam_search(model, source_ids, start_id, end_id, max_length=20, width=4, length_penalty=0.6,
                batch_size=64):
    """Translate by keeping the `width` most likely partial translations each step.

    A finished hypothesis (it produced [end]) keeps its place and score; the
    search stops when every beam has finished or after max_length - 1 tokens.
    The best hypothesis maximises log P / len^length_penalty (len counts [end]).
    With width=1 this is greedy decoding. Returns n lists of token ids, as
    `greedy_decode`.
    """
    source_ids = _check_ids("source_ids", source_ids)
    width = _positive_int("width", width)
    encode, log_probs = _functions(model)
    results = []
    for lo in range(0, len(source_ids), batch_size):
        context, mask = encode(source_ids[lo: lo + batch_size])
        n = context.shape[0]
        context = np.repeat(context.numpy(), width, axis=0)
        mask = np.repeat(mask.numpy(), width, axis=0)
        tokens = np.zeros((n, width, max_length), np.int32)
        tokens[:, :, 0] = start_id
        scores = np.full((n, width), -np.inf)
        scores[:, 0] = 0.0  # one live hypothesis at first: the others would repeat it
        done = np.zeros((n, width), bool)
        lengths = np.zeros((n, width), np.int32)
        for t in range(max_length - 1):
            lp = log_probs(tokens.reshape(n * width, -1), context, mask, t).numpy()
            lp = lp.reshape(n, width, -1).astype(np.float64)
            # A finished beam may only continue with padding, at no cost.
            lp[done] = -np.inf
            lp[done, 0] = 0.0
            candidates = (scores[:, :, None] + lp).reshape(n, -1)
            best = _top(candidates, width)
            beam, token = np.divmod(best, lp.shape[-1])
            rows = np.arange(n)[:, None]
            tokens = tokens[rows, beam]
            tokens[:, :, t + 1] = token
            scores = candidates[rows, best]
            done, lengths = done[rows, beam], lengths[rows, beam]
            lengths = np.where(done, lengths, t + 1)
            done = done | (token == end_id)
            if done.all():
                break
        normalised = scores / np.maximum(lengths, 1) ** length_penalty
        pick = np.argmax(normalised, axis=-1)
        results += _strip(tokens[np.arange(n), pick, 1:], end_id)
    return results


def detokenize(tokens):
    """Join tokens into text: no space before . , ? ! nor after ¿ ¡.
    ["¿", "dónde", "está", "?"] -> "¿dónde está?"."""
    text = ""
    for token in tokens:
        if text and token not in ".,?!" and not text.endswith(("¿", "¡")):
            text += " "
        text += token
    return text


def translate(model, texts, source_vectorizer, target_vectorizer, method="greedy", width=4,
              max_length=None):
    """Spanish translations (str) of English `texts` by greedy decoding or beam search."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of English sentences, not one str")
    if method not in ("greedy", "beam"):
        raise ValueError(f'method must be "greedy" or "beam"; got {method!r}')
    vocab = target_vectorizer.get_vocabulary()
    start_id, end_id = vocab.index(START), vocab.index(END)
    if max_length is None:
        max_length = source_vectorizer.get_config()["output_sequence_length"]
    source_ids = np.asarray(source_vectorizer(list(texts)))
    if method == "greedy":
        ids = greedy_decode(model, source_ids, start_id, end_id, max_length)
    else:
        ids = beam_search(model, source_ids, start_id, end_id, max_length, width=width)
    return [detokenize([vocab[i] for i in row]) for row in ids]


def attention_maps(model, source_ids, target_ids):
    """The decoder's cross-attention weights, computed once for all layers and heads.

    source_ids: (batch, n_s); target_ids: (batch, n_t), the decoder's input
    ([start] and the tokens so far). Returns NumPy (batch, layers, heads, n_t, n_s).
    """
    context, mask = _encode(model, _check_ids("source_ids", source_ids))
    _, cross = _decode(model, _check_ids("target_ids", target_ids), context, mask, return_attention_scores=True)
    return np.stack([ops.convert_to_numpy(w) for w in cross], axis=1)


def corpus_bleu(hypotheses, references):
    """Corpus BLEU (0-100) of sacrebleu, case-insensitive, its "intl" tokenizer.

    hypotheses: n translations (str). references: n lists, each holding one or
    more reference translations of the same sentence (a sentence may have fewer
    references than others). Returns sacrebleu's BLEUScore: `.score`,
    `str(score)` shows the n-gram precisions and the brevity penalty, and
    `.signature` sacrebleu's signature of the settings (tokenizer, case,
    number of references, version), to quote with the score.
    """
    from sacrebleu.metrics import BLEU

    if isinstance(hypotheses, str) or len(hypotheses) != len(references):
        raise ValueError(f"hypotheses and references must be lists of the same length; got "
                         f"{len(hypotheses)} hypotheses and {len(references)} reference lists")
    references = [[refs] if isinstance(refs, str) else list(refs) for refs in references]
    if any(len(refs) == 0 for refs in references):
        raise ValueError("every sentence needs at least one reference")
    most = max(len(refs) for refs in references)
    streams = [[refs[i] if i < len(refs) else None for refs in references] for i in range(most)]
    bleu = BLEU(tokenize=BLEU_TOKENIZE, lowercase=True)
    score = bleu.corpus_score(list(hypotheses), streams)
    score.signature = str(bleu.get_signature())
    return score


# ------------------------------------------------------------------ the recipe

@dataclass(frozen=True)
class TranslatorRecipe:
    """Everything notebook 09's translator is made from: the model and its training.

    Model (the arguments of `transformer_translator`, same names):
    source_vocab and target_vocab (tokens kept per language, padding and
    [UNK] included), max_length (tokens per sentence), d_model, num_heads,
    d_ff, num_layers (per stack), dropout, norm_first. Training
    (`train_translator`): epochs over batches of batch_size pairs of similar
    length, Adam with a linear warm-up over warmup_steps to learning_rate,
    then a cosine to 0; monitor_pairs random validation pairs scored after
    each epoch. Vary it with `recipe.replace(name=value, ...)`.
    """

    source_vocab: int = 10_000
    target_vocab: int = 8_000
    max_length: int = 20
    d_model: int = 128
    num_heads: int = 4
    d_ff: int = 512
    num_layers: int = 2
    dropout: float = 0.1
    norm_first: bool = True
    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_steps: int = 400
    monitor_pairs: int = 2_000

    def replace(self, **changes):
        """This recipe with some fields changed; an unknown name is a ValueError listing the fields."""
        return replace_fields(self, changes)


# What notebook 09 trains in full mode and `bench/translation.py` measures.
SPA_ENG_RECIPE = TranslatorRecipe()


def translator_from_recipe(recipe=SPA_ENG_RECIPE):
    """The (uncompiled) `transformer_translator` that `recipe` describes; every argument read from it."""
    return transformer_translator(**recipe_arguments(recipe, TranslatorRecipe, transformer_translator))


def monitor_sample(pairs, size, seed=0):
    """`size` pairs drawn at random (all of them if fewer), kept in the order of `pairs`.

    The spa-eng file is sorted by length, so its first pairs are its
    shortest: a slice would watch only the easiest sentences.
    """
    _check_pairs("pairs", pairs)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(pairs))[: _positive_int("size", size)])
    return [pairs[i] for i in chosen]


TrainedTranslator = namedtuple("TrainedTranslator",
                               "model source_vectorizer target_vectorizer history seconds cached")


def train_translator(recipe, train_pairs, val_pairs, seed=0, progress=True):
    """Learn both vocabularies from train_pairs, build `recipe`'s translator and train it.

    `keras.utils.set_random_seed(seed)` fixes the initial weights, the batch
    order and dropout. After each epoch, loss and masked accuracy are
    measured on `monitor_sample(val_pairs, recipe.monitor_pairs, seed)`.
    progress: show `EpochLog` (live line, one line per epoch). Returns
    TrainedTranslator(model, source_vectorizer, target_vectorizer, history,
    seconds, cached=False): history is Keras's dict of per-epoch lists
    (loss, masked_accuracy, val_loss, val_masked_accuracy), seconds the
    wall-clock time of `fit`.
    """
    keras.utils.set_random_seed(seed)
    source_vectorizer, target_vectorizer = make_vectorizers(
        train_pairs, recipe.source_vocab, recipe.target_vocab, recipe.max_length)
    batches = translation_dataset(train_pairs, source_vectorizer, target_vectorizer, recipe.batch_size,
                                  shuffle=True, seed=seed)
    monitor = translation_dataset(monitor_sample(val_pairs, recipe.monitor_pairs, seed),
                                  source_vectorizer, target_vectorizer, 256)
    steps = recipe.epochs * int(batches.cardinality())
    model = translator_from_recipe(recipe)
    schedule = warmup_cosine(recipe.learning_rate, steps, min(recipe.warmup_steps, steps // 4))
    model.compile(keras.optimizers.Adam(schedule), loss=masked_loss, metrics=[masked_accuracy])
    start = time.perf_counter()
    history = model.fit(batches, validation_data=monitor, epochs=recipe.epochs, verbose=0, shuffle=False,
                        callbacks=[EpochLog()] if progress else [])  # tf.data shuffles the batches
    return TrainedTranslator(model, source_vectorizer, target_vectorizer, history.history,
                             time.perf_counter() - start, False)


def load_or_train_translator(checkpoint, recipe, train_pairs, val_pairs, seed=0, progress=True):
    """The translator cached at `checkpoint` if it was trained from `recipe`; else train it and save it there.

    A checkpoint of another recipe (or saved without one) is refused, naming
    the fields that differ. Returns a TrainedTranslator; when loaded, its
    history and seconds are those of the run that trained it, cached=True.
    """
    checkpoint = Path(checkpoint)
    if checkpoint.exists():
        model, source_vectorizer, target_vectorizer = load_translator(checkpoint)
        meta = json.loads(_vocab_path(checkpoint).read_text(encoding="utf-8"))
        saved = meta.get("recipe")
        if saved != asdict(recipe):
            refuse_other_recipe(checkpoint, None if saved is None else {
                name: (value, saved.get(name)) for name, value in asdict(recipe).items() if saved.get(name) != value},
                _vocab_path(checkpoint).name)
        return TrainedTranslator(model, source_vectorizer, target_vectorizer, meta["history"], meta["seconds"],
                                 True)
    trained = train_translator(recipe, train_pairs, val_pairs, seed, progress)
    save_translator(checkpoint, trained.model, trained.source_vectorizer, trained.target_vectorizer,
                    recipe=recipe, history=trained.history, seconds=trained.seconds)
    return trained


# ------------------------------------------------------------------ saving

def _vocab_path(path):
    return Path(path).with_suffix(".vocab.json")


def save_translator(path, model, source_vectorizer, target_vectorizer, recipe=None, history=None,
                    seconds=None):
    """Save the model to `path` (.keras) and both vocabularies beside it (.vocab.json).

    recipe, history (Keras's per-epoch dict), seconds: how it was trained, kept
    in the .vocab.json for `load_or_train_translator`.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras; got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({
        "source_vocabulary": source_vectorizer.get_vocabulary(),
        "target_vocabulary": target_vectorizer.get_vocabulary(),
        "max_length": source_vectorizer.get_config()["output_sequence_length"],
        "recipe": None if recipe is None else asdict(recipe),
        "history": None if history is None else {k: [float(v) for v in vs] for k, vs in history.items()},
        "seconds": seconds,
    }, ensure_ascii=False)
    write_whole(_vocab_path(path), lambda tmp: tmp.write_text(meta, encoding="utf-8"))
    write_whole(path, model.save)  # last: a reader that sees the model finds its vocabularies


def load_translator(path):
    """(model, source_vectorizer, target_vectorizer) saved by `save_translator`."""
    path = Path(path)
    if not path.exists() or not _vocab_path(path).exists():
        raise FileNotFoundError(f"no saved translator at {path} (and {_vocab_path(path).name})")
    meta = json.loads(_vocab_path(path).read_text(encoding="utf-8"))
    model = keras.models.load_model(path, compile=False)
    max_length = meta["max_length"]
    source = keras.layers.TextVectorization(
        output_sequence_length=max_length, standardize=spa_standardize,
        vocabulary=meta["source_vocabulary"])
    target = keras.layers.TextVectorization(
        output_sequence_length=max_length + 1, standardize=spa_standardize,
        vocabulary=meta["target_vocabulary"])
    return model, source, target
