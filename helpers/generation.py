"""A small GPT: a decoder-only language model, how it is trained, scored and sampled (notebook 10).

    token ids (batch, n)
      -> PositionalEmbedding (learned positions)      (batch, n, d_model)
      -> CausalBlock x num_layers                      pre-LN, as GPT-2:
             x = x + MultiHead(LN(x), causal)
             x = x + FFN(LN(x)),  FFN(x) = GELU(x W_1 + b_1) W_2 + b_2
      -> LayerNorm -> Dense(vocab_size)                logits (batch, n, vocab_size)

Logits at position i are the model's guess for token i + 1, from tokens
0..i only (the causal mask). Training minimises the next-token
cross-entropy; perplexity = exp(mean negative log-likelihood per token).

    GPT_RECIPE                   the one model + training recipe (quick or full sizes)
    lm_reviews(recipe)           the reviews to learn from and the held-out test reviews
    gpt_model(recipe)            the Keras model, built from the recipe in one call
    train_gpt(...)               a training run of fixed wall-clock minutes, weights kept at snapshots
    save_gpt / load_gpt          the trained model, its snapshots and its training record
    token_nll(model, stream)     -log p(token | the tokens before it), for every token of a stream
    ngram_nll(...)               the same for an add-k unigram or bigram model
    next_token_probs(logits, temperature, top_k, top_p)   what a sampler draws from
    Decoder(model).generate(...)  prefill + one token per step, with a KV cache or by full recompute
    distinct_n(texts, n)         share of distinct word n-grams (repetition)

The KV cache: generating token t + 1 needs the keys and values of positions
0..t in every layer. Without a cache, each step runs the model over the
whole text again; with one, each step computes the new token's query, key
and value only, writes the key and value into a preallocated cache
(`keras.ops.slice_update`, as KerasHub's `CachedMultiHeadAttention`) and
attends over the cache.
"""
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import keras
from keras import ops

from helpers.data import write_whole
from helpers.layers import MultiHeadAttention, PositionalEmbedding
from helpers.masks import _positive_int
from helpers.mode import pick
from helpers.training import learning_rates, warmup_cosine

__all__ = [
    "GPTRecipe",
    "GPT_RECIPE",
    "lm_reviews",
    "CausalBlock",
    "gpt_model",
    "random_windows",
    "train_gpt",
    "save_gpt",
    "load_gpt",
    "token_nll",
    "ngram_nll",
    "choose_add_k",
    "perplexity",
    "next_token_probs",
    "entropy",
    "Generation",
    "Decoder",
    "attention_and_probs",
    "distinct_n",
]


@dataclass(frozen=True)
class GPTRecipe:
    """Everything a trained GPT of notebook 10 is made from: sizes, training, data.

    Model: vocab_size (BPE entries, EOT included), context (the most tokens
    the model reads), d_model, num_heads, num_layers, d_ff, dropout.
    Training: batch_size windows of context + 1 tokens per step, AdamW with
    peak learning_rate, weight_decay and beta_2 (0.95, as GPT-3: Adam's
    second-moment average forgets faster than the default 0.999); the rate warms up over
    warmup_fraction of the time, then follows a cosine down to
    final_fraction * peak at the end of `minutes` of wall-clock training;
    weights are kept at the fractions `snapshots` of it (compute vs
    quality). Data: train_reviews (training + unlabelled reviews used; None:
    all 75,000) and test_reviews (held-out reviews scored), drawn with `seed`.
    """

    vocab_size: int = 8_000
    context: int = 320
    d_model: int = 96
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 384
    dropout: float = 0.0
    batch_size: int = 4
    learning_rate: float = 4e-3
    warmup_fraction: float = 0.05
    final_fraction: float = 0.1
    weight_decay: float = 0.01
    beta_2: float = 0.95
    minutes: float = 10.0
    snapshots: tuple = (0.25, 0.5)
    train_reviews: int = None
    test_reviews: int = 2_000
    seed: int = 0


# Full mode: 10 minutes on a 2-core CPU. Quick mode (tests, CI): seconds.
GPT_RECIPE = pick(
    full=GPTRecipe(),
    quick=GPTRecipe(vocab_size=1_000, context=64, d_model=32, num_heads=2, num_layers=2, d_ff=64,
                    minutes=0.15, train_reviews=2_000, test_reviews=100),
)


def lm_reviews(recipe=GPT_RECIPE, data_dir=None):
    """(lm_texts, held_out): the reviews a GPT of `recipe` learns from, and those it is scored on.

    lm_texts: recipe.train_reviews of the 75,000 training + unlabelled
    reviews of aclImdb (all of them when None); held_out: recipe.test_reviews
    of the 25,000 test reviews, never seen in training. Both drawn at random
    with recipe.seed, kept in file order, cleaned (`helpers.tokens.clean_review`).
    """
    from helpers.data import load_imdb
    from helpers.tokens import clean_review

    rng = np.random.default_rng(recipe.seed)
    pool = load_imdb("train", data_dir)[0] + load_imdb("unsup", data_dir)[0]
    test = load_imdb("test", data_dir)[0]
    chosen = np.sort(rng.choice(len(pool), recipe.train_reviews or len(pool), replace=False))
    held = np.sort(rng.choice(len(test), recipe.test_reviews, replace=False))
    return [clean_review(pool[i]) for i in chosen], [clean_review(test[i]) for i in held]


@keras.saving.register_keras_serializable(package="helpers")
class CausalBlock(keras.layers.Layer):
    """One GPT-2 block (pre-LN): x + MultiHead(LN(x), causal), then x + FFN(LN(x)).

    d_model: size of each token vector; num_heads: heads of d_model /
    num_heads each; d_ff: hidden size of the FFN (GELU); dropout: rate on
    each sub-layer output while training. Call with x (batch, n, d_model).
    Position i attends to positions j <= i only (`use_causal_mask=True` of
    `helpers.layers.MultiHeadAttention`). Returns (batch, n, d_model), and
    with return_attention_scores=True also the weights (batch, num_heads, n, n).
    """

    def __init__(self, d_model, num_heads, d_ff, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads = _positive_int("d_model", d_model), _positive_int("num_heads", num_heads)
        self.d_ff = _positive_int("d_ff", d_ff)
        if d_model % num_heads:
            raise ValueError(f"d_model must split evenly into num_heads: got d_model = {d_model}, "
                             f"num_heads = {num_heads}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a rate in [0, 1); got {dropout}")
        self.dropout = float(dropout)
        self.attention = MultiHeadAttention(num_heads, d_model // num_heads, name="attention")
        self.attention_norm = keras.layers.LayerNormalization(name="attention_norm")
        self.feed_forward = keras.Sequential(
            [keras.layers.Dense(d_ff, activation="gelu"), keras.layers.Dense(d_model)], name="feed_forward")
        self.feed_forward_norm = keras.layers.LayerNormalization(name="feed_forward_norm")
        self.residual_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (batch, n, {self.d_model}); got shape {tuple(input_shape)}")
        self.attention.build(input_shape, input_shape)
        for part in (self.attention_norm, self.feed_forward, self.feed_forward_norm):
            part.build(input_shape)

    def call(self, x, training=False, return_attention_scores=False):
        h = self.attention_norm(x)
        attended, weights = self.attention(h, h, use_causal_mask=True, return_attention_scores=True)
        x = x + self.residual_dropout(attended, training=training)
        x = x + self.residual_dropout(self.feed_forward(self.feed_forward_norm(x)), training=training)
        return (x, weights) if return_attention_scores else x

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads,
                "d_ff": self.d_ff, "dropout": self.dropout}


def gpt_model(recipe=GPT_RECIPE):
    """The (uncompiled) language model of `recipe`: token ids (batch, n <= context) -> logits (batch, n, vocab_size).

    Layers: "embedding" (PositionalEmbedding, learned positions), "block_0",
    "block_1", ... (CausalBlock), "final_norm", "logits".
    """
    if not isinstance(recipe, GPTRecipe):
        raise TypeError(f"recipe must be a GPTRecipe; got {type(recipe).__name__}")
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = PositionalEmbedding(recipe.vocab_size, recipe.context, recipe.d_model, kind="learned",
                            name="embedding")(token_ids)
    for i in range(recipe.num_layers):
        x = CausalBlock(recipe.d_model, recipe.num_heads, recipe.d_ff, recipe.dropout, name=f"block_{i}")(x)
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    logits = keras.layers.Dense(recipe.vocab_size, name="logits")(x)
    return keras.Model(token_ids, logits, name="gpt")


def _parts(model):
    """(embedding, blocks, final_norm, logits layer) of a model from `gpt_model`."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model from gpt_model; got {type(model).__name__}")
    names = {layer.name: layer for layer in model.layers}
    blocks = [layer for layer in model.layers if isinstance(layer, CausalBlock)]
    if not blocks or not all(name in names for name in ("embedding", "final_norm", "logits")):
        raise ValueError("model must be a model from gpt_model (an embedding, CausalBlocks, final_norm, logits)")
    return names["embedding"], blocks, names["final_norm"], names["logits"]


def _stream(name, stream, vocab_size=None):
    stream = np.asarray(stream)
    if stream.ndim != 1 or not np.issubdtype(stream.dtype, np.integer) or len(stream) < 2:
        raise ValueError(f"{name} must be a 1-D stream of at least 2 integer token ids; "
                         f"got {stream.dtype} of shape {stream.shape}")
    if vocab_size is not None and (stream.min() < 0 or stream.max() >= vocab_size):
        raise ValueError(f"{name} must hold ids in [0, vocab_size = {vocab_size}); "
                         f"got ids from {stream.min()} to {stream.max()}")
    return stream


def random_windows(stream, context, batch_size, rng):
    """A batch of next-token examples cut from `stream` at random places.

    Returns (x, y), int32 (batch_size, context) each: x = stream[o:o + context],
    y = stream[o + 1:o + context + 1] for batch_size random offsets o.
    """
    stream = _stream("stream", stream)
    if len(stream) < context + 1:
        raise ValueError(f"stream must hold at least context + 1 = {context + 1} tokens; got {len(stream)}")
    offsets = rng.integers(0, len(stream) - context, size=batch_size)
    rows = offsets[:, None] + np.arange(context + 1)
    windows = stream[rows].astype(np.int32)
    return windows[:, :-1], windows[:, 1:]


def train_gpt(model, stream, recipe=GPT_RECIPE, log_every=None, echo=print):
    """Train `model` on next-token prediction over `stream` for `recipe.minutes` of wall-clock time.

    stream: 1-D token ids (the training reviews, `helpers.tokens.encode_stream`).
    The output layer's bias starts at the log of each token's frequency in
    the stream (plus one): before its first step the model is the add-one
    unigram model, and training spends no steps learning which tokens are
    common. Each step draws `random_windows`; the learning rate follows
    `helpers.training.warmup_cosine` over the fraction of the time spent
    (not of the steps: how many steps fit depends on the machine).
    log_every: minutes between log lines (default: a tenth of the run).
    The clock starts after one step at learning rate 0 that compiles the
    training step (its seconds are kept as "compile_seconds").
    Returns the training record: {"minutes", "steps", "tokens", "compile_seconds", "log": [(minutes,
    step, tokens, mean loss since the last line), ...], "snapshots": {fraction:
    weights (list of arrays) at that fraction of the time}}.
    """
    stream = _stream("stream", stream, recipe.vocab_size)
    counts = np.bincount(stream, minlength=recipe.vocab_size) + 1.0
    _parts(model)[3].bias.assign(np.log(counts / counts.sum()).astype(np.float32))
    rng = np.random.default_rng(recipe.seed)
    permille = learning_rates(warmup_cosine(recipe.learning_rate, 1_000, int(1_000 * recipe.warmup_fraction),
                                            alpha=recipe.final_fraction), 1_000)
    optimizer = keras.optimizers.AdamW(learning_rate=float(permille[0]), weight_decay=recipe.weight_decay,
                                       beta_2=recipe.beta_2)
    # XLA fuses the many small element-wise operations of a step: about 1.35x faster on a CPU, where
    # Keras's jit_compile="auto" would leave it off.
    model.compile(optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    budget = recipe.minutes * 60.0
    log_every = recipe.minutes / 10 if log_every is None else log_every
    pending = sorted(recipe.snapshots)
    record = {"log": [], "snapshots": {}}
    # The first step compiles (seconds to tens of seconds): run it at learning rate 0, before the clock starts.
    started = time.perf_counter()
    optimizer.learning_rate = 0.0
    model.train_on_batch(*random_windows(stream, recipe.context, recipe.batch_size, rng))
    record["compile_seconds"] = time.perf_counter() - started
    step, losses, next_log = 0, [], log_every
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < budget:
        fraction = elapsed / budget
        while pending and fraction >= pending[0]:
            record["snapshots"][pending.pop(0)] = [w.copy() for w in model.get_weights()]
        optimizer.learning_rate = float(permille[min(int(1_000 * fraction), 999)])
        x, y = random_windows(stream, recipe.context, recipe.batch_size, rng)
        losses.append(float(model.train_on_batch(x, y)))
        step += 1
        minutes = (time.perf_counter() - start) / 60
        if minutes >= next_log or minutes * 60 >= budget:
            record["log"].append((round(minutes, 3), step, step * recipe.batch_size * recipe.context,
                                  float(np.mean(losses))))
            echo(f"{minutes:5.2f} min  step {step:5,}  {step * recipe.batch_size * recipe.context / 1e6:5.2f}M "
                 f"tokens  loss {np.mean(losses):.3f}")
            losses = []
            while next_log <= minutes:
                next_log += log_every
    for fraction in pending:  # a run too short to reach a snapshot keeps its end
        record["snapshots"][fraction] = [w.copy() for w in model.get_weights()]
    record.update(minutes=(time.perf_counter() - start) / 60, steps=step,
                  tokens=step * recipe.batch_size * recipe.context)
    return record


def _paths(path):
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"path must end in .keras; got {str(path)!r}")
    return path, path.with_name(path.stem + ".record.json"), path.with_name(path.stem + ".snapshots.npz")


def save_gpt(path, model, record, recipe=GPT_RECIPE):
    """Save `model` to `path` (.keras), its training record (minus weights) and snapshot weights beside it.

    Writes <stem>.record.json (recipe, minutes, steps, tokens, log),
    <stem>.snapshots.npz and `path`, each whole (`helpers.data.write_whole`),
    the model last: a reader that sees it finds the rest. Returns the three paths.
    """
    path, record_path, snapshot_path = _paths(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = {key: value for key, value in record.items() if key != "snapshots"}
    summary.update(recipe=asdict(recipe), snapshots=sorted(record["snapshots"]))
    write_whole(record_path, lambda tmp: tmp.write_text(json.dumps(summary, indent=1), encoding="utf-8"))
    arrays = {f"s{i}_w{j}": w for i, fraction in enumerate(sorted(record["snapshots"]))
              for j, w in enumerate(record["snapshots"][fraction])}
    write_whole(snapshot_path, lambda tmp: np.savez(tmp, **arrays))
    write_whole(path, model.save)
    return path, record_path, snapshot_path


def load_gpt(path):
    """(model, record) as `save_gpt` left them; record["snapshots"] maps each fraction to its weights."""
    path, record_path, snapshot_path = _paths(path)
    for needed in (path, record_path, snapshot_path):
        if not needed.is_file():
            raise FileNotFoundError(f"{needed} does not exist: train and save with save_gpt first")
    model = keras.models.load_model(path)
    record = json.loads(record_path.read_text(encoding="utf-8"))
    with np.load(snapshot_path) as arrays:
        count = len(model.get_weights())
        record["snapshots"] = {fraction: [arrays[f"s{i}_w{j}"] for j in range(count)]
                               for i, fraction in enumerate(record["snapshots"])}
    return model, record


def token_nll(model, stream, batch_size=16):
    """-log p(stream[i] | the tokens before it, up to `context` of them), for i = 1 .. len(stream) - 1.

    The stream is cut into windows of `context` targets (non-overlapping; the
    first target of a window sees only the window's first token), the last one
    padded and its padding ignored. Returns float64 (len(stream) - 1,), in nats.
    """
    import tensorflow as tf

    embedding = _parts(model)[0]
    stream = _stream("stream", stream, embedding.vocab_size).astype(np.int32)
    context = embedding.max_length
    targets = len(stream) - 1
    windows = -(-targets // context)
    padded = np.zeros(windows * context + 1, dtype=np.int32)
    padded[:len(stream)] = stream
    x = padded[:-1].reshape(windows, context)
    y = padded[1:].reshape(windows, context)

    @tf.function(jit_compile=True, autograph=False)
    def window_nll(x, y):
        return keras.losses.sparse_categorical_crossentropy(y, model(x, training=False), from_logits=True)

    nll = []
    for start in range(0, windows, batch_size):  # the last batch padded too: one compiled shape
        rows = np.arange(start, start + batch_size) % windows
        nll.append(ops.convert_to_numpy(window_nll(x[rows], y[rows]))[:windows - start])
    return np.concatenate(nll).ravel()[:targets].astype(np.float64)


def perplexity(nll, count=None):
    """exp(sum(nll) / count): count = len(nll) per token, or the number of words per word."""
    nll = np.asarray(nll, dtype=np.float64)
    return float(np.exp(nll.sum() / (len(nll) if count is None else count)))


def _ngram_scorer(train, evaluated, vocab_size, order):
    """k -> -log p(evaluated[i] | ...) under the add-k n-gram model counted on `train` (counted once)."""
    if order == 1:
        seen, before = np.bincount(train, minlength=vocab_size)[evaluated[1:]], len(train)
    elif order == 2:
        pairs, pair_counts = np.unique(train[:-1] * vocab_size + train[1:], return_counts=True)
        wanted = evaluated[:-1] * vocab_size + evaluated[1:]
        where = np.minimum(np.searchsorted(pairs, wanted), len(pairs) - 1)
        seen = np.where(pairs[where] == wanted, pair_counts[where], 0)
        before = np.bincount(train[:-1], minlength=vocab_size)[evaluated[:-1]]
    else:
        raise ValueError(f"order must be 1 (unigram) or 2 (bigram); got {order!r}")
    return lambda k: -np.log((seen + k) / (before + k * vocab_size))


def ngram_nll(train_stream, eval_stream, vocab_size, order, k):
    """-log p(eval_stream[i] | ...) under an add-k n-gram model counted on `train_stream`, i = 1 .. len - 1.

    order 1 (unigram): p(b) = (c(b) + k) / (N + k V); order 2 (bigram):
    p(b | a) = (c(a b) + k) / (c(a) + k V), V = vocab_size. k > 0 gives
    every token a share, so no held-out token has probability 0.
    Returns float64 (len(eval_stream) - 1,), in nats: the same targets as `token_nll`.
    """
    train = _stream("train_stream", train_stream, vocab_size).astype(np.int64)
    evaluated = _stream("eval_stream", eval_stream, vocab_size).astype(np.int64)
    if isinstance(k, bool) or not isinstance(k, (int, float, np.number)) or not k > 0:
        raise ValueError(f"k must be a number > 0 (add-k smoothing); got {k!r}")
    return _ngram_scorer(train, evaluated, vocab_size, order)(k)


def choose_add_k(train_stream, vocab_size, order, ks=(1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001), held_out=0.05):
    """The k of `ks` whose n-gram model, counted on the first 1 - held_out of the training stream,
    gives its last `held_out` the lowest mean NLL (test data never chooses)."""
    train = _stream("train_stream", train_stream, vocab_size).astype(np.int64)
    cut = int(len(train) * (1 - held_out))
    score = _ngram_scorer(train[:cut], train[cut:], vocab_size, order)
    return ks[int(np.argmin([score(k).mean() for k in ks]))]


def _check_sampling(temperature, top_k, top_p):
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)) \
            or not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a number > 0 (use greedy=True for the limit T -> 0); "
                         f"got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"top_k must be an int >= 1, or None for no cut; got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float, np.number))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must lie in (0, 1], or be None for no cut; got {top_p!r}")


def next_token_probs(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution a sampler draws the next token from.

        p = softmax(logits / temperature)
        top_k: keep the k most likely tokens (ties broken by the lower id)
        top_p: then keep the smallest set of most likely tokens whose
               probability reaches top_p (the token that crosses it included)
        renormalise what is kept to sum to 1.

    logits: (..., vocab). temperature > 0; top_k >= 1 or None; top_p in
    (0, 1] or None. Returns float64 probabilities of the same shape, 0 where cut.
    """
    _check_sampling(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits must have shape (..., vocab); got shape {logits.shape}")
    scaled = logits / temperature
    probs = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)
    order = np.argsort(-probs, axis=-1, kind="stable")
    ranked = np.take_along_axis(probs, order, axis=-1)
    keep = np.ones_like(ranked, dtype=bool)
    if top_k is not None:
        keep[..., top_k:] = False
    if top_p is not None and top_p < 1:
        before = np.cumsum(np.where(keep, ranked, 0.0), axis=-1) - ranked  # mass of the tokens ranked above
        keep &= before < top_p * np.where(keep, ranked, 0.0).sum(axis=-1, keepdims=True)
    kept = np.zeros_like(probs)
    np.put_along_axis(kept, order, np.where(keep, ranked, 0.0), axis=-1)
    return kept / kept.sum(axis=-1, keepdims=True)


def entropy(probs):
    """-sum p log p over the last axis, in nats (0 log 0 = 0)."""
    probs = np.asarray(probs, dtype=np.float64)
    # + 0.0 turns the -0.0 of a one-hot distribution into 0.0
    return -np.sum(np.where(probs > 0, probs * np.log(np.where(probs > 0, probs, 1.0)), 0.0), axis=-1) + 0.0


@dataclass(frozen=True)
class Generation:
    """What `Decoder.generate` returns.

    tokens: the new token ids (new_tokens,); logits: the logits each was
    drawn from, float32 (new_tokens, vocab); prefill_seconds: the prompt's
    pass; step_seconds: each later step, (max(new_tokens - 1, 0),).
    """

    tokens: np.ndarray
    logits: np.ndarray
    prefill_seconds: float
    step_seconds: np.ndarray


class Decoder:
    """Generation from a `gpt_model`, with a KV cache or by full recompute.

    With the cache, `generate` runs the prompt through the model once, in
    one causal pass (prefill), writing every layer's keys and values of the
    prompt into a cache preallocated at its full size (batch 1, num_heads,
    context, key_dim); each later step feeds only the newest token, writes its
    key and value at its position with `keras.ops.slice_update` (the cache
    keeps its shape; nothing is concatenated) and attends over positions
    0..t of the cache. The step is one `tf.function` compiled with XLA.
    Without the cache, every step runs the whole model over all tokens so
    far (a `tf.function` too) and keeps the last position's logits.
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self.embedding, self.blocks, self.final_norm, self.head = _parts(model)
        self.context = self.embedding.max_length
        self.vocab_size = self.embedding.vocab_size
        attention = self.blocks[0].attention
        self._cache_shape = (1, attention.num_heads, self.context, attention.key_dim)
        ids = tf.TensorSpec((1, None), tf.int32)
        caches = [tf.TensorSpec(self._cache_shape, tf.float32)] * (2 * len(self.blocks))
        self._prefill = tf.function(self._cached_pass, input_signature=[ids, tf.TensorSpec((), tf.int32), caches],
                                    autograph=False)
        self._step = tf.function(self._cached_pass, jit_compile=True, autograph=False)
        self._full = tf.function(lambda ids: self.model(ids, training=False)[:, -1], input_signature=[ids],
                                 autograph=False)

    def empty_cache(self):
        """A zero key and value cache for every layer: 2 * num_layers tensors (1, num_heads, context, key_dim)."""
        return [ops.zeros(self._cache_shape) for _ in range(2 * len(self.blocks))]

    def _cached_pass(self, ids, start, caches):
        """Logits of the last of `ids` (1, m), the tokens at positions start .. start + m - 1, and the caches
        with their keys and values written in. Query i attends to cache positions j <= start + i."""
        m = ops.shape(ids)[1]
        positions = start + ops.arange(m)
        x = self.embedding.token_embedding(ids) * math.sqrt(self.embedding.d_model)
        x = x + self.embedding.position_embedding(positions)
        allowed = ops.arange(self.context)[None, :] <= positions[:, None]  # (m, context): causal over the cache
        updated = []
        for block, k_cache, v_cache in zip(self.blocks, caches[0::2], caches[1::2]):
            attention = block.attention
            h = block.attention_norm(x)
            q, k, v = (self._heads(attention, dense(h)) for dense in (attention.w_q, attention.w_k, attention.w_v))
            k_cache = ops.slice_update(k_cache, (0, 0, start, 0), k)
            v_cache = ops.slice_update(v_cache, (0, 0, start, 0), v)
            scores = ops.matmul(q, ops.swapaxes(k_cache, -1, -2)) / math.sqrt(attention.key_dim)
            weights = ops.softmax(ops.where(allowed, scores, -1e9), axis=-1)
            heads = ops.reshape(ops.transpose(ops.matmul(weights, v_cache), (0, 2, 1, 3)), (1, m, -1))
            x = x + attention.w_o(heads)
            x = x + block.feed_forward(block.feed_forward_norm(x))
            updated += [k_cache, v_cache]
        return self.head(self.final_norm(x[:, -1])), updated

    @staticmethod
    def _heads(attention, x):
        """(1, m, num_heads * key_dim) -> (1, num_heads, m, key_dim)."""
        return ops.transpose(ops.reshape(x, (1, -1, attention.num_heads, attention.key_dim)), (0, 2, 1, 3))

    def _check(self, prompt_ids, new_tokens):
        prompt = np.asarray(prompt_ids)
        if prompt.ndim != 1 or not (np.issubdtype(prompt.dtype, np.integer) or prompt.size == 0):
            raise ValueError(f"prompt_ids must be a 1-D list of token ids; got shape {prompt.shape}")
        if prompt.size == 0:
            raise ValueError("prompt_ids must hold at least one token (start with EOT, id 0, for a new review); "
                             "got an empty prompt")
        if prompt.min() < 0 or prompt.max() >= self.vocab_size:
            raise ValueError(f"prompt_ids must lie in [0, vocab_size = {self.vocab_size}); "
                             f"got ids from {prompt.min()} to {prompt.max()}")
        if len(prompt) > self.context:
            raise ValueError(f"prompt_ids must fit the context of {self.context} tokens; got {len(prompt)}")
        if isinstance(new_tokens, bool) or not isinstance(new_tokens, (int, np.integer)) or new_tokens < 0:
            raise ValueError(f"new_tokens must be an int >= 0; got {new_tokens!r}")
        if len(prompt) + new_tokens - 1 > self.context:
            raise ValueError(f"new_tokens must fit the context: the model reads at most {self.context} tokens, "
                             f"so a prompt of {len(prompt)} allows at most {self.context - len(prompt) + 1} "
                             f"new tokens; got {new_tokens}")
        return prompt.astype(np.int32)

    def generate(self, prompt_ids, new_tokens, *, greedy=False, temperature=1.0, top_k=None, top_p=None,
                 seed=0, cache=True):
        """`new_tokens` tokens after `prompt_ids`, each drawn from `next_token_probs` of the last logits.

        prompt_ids: 1-D token ids, 1 <= len <= context; new_tokens >= 0 with
        len(prompt_ids) + new_tokens - 1 <= context. greedy: take the most likely
        token (temperature, top_k, top_p unused); otherwise sample with a
        NumPy generator seeded by `seed` (the same seed, the same sample).
        cache: True for the KV cache, False for full recompute. Returns a
        `Generation`. Raises ValueError naming the argument that is wrong.
        """
        prompt = self._check(prompt_ids, new_tokens)
        if not greedy:
            _check_sampling(temperature, top_k, top_p)
        rng = np.random.default_rng(seed)
        tokens, logits_seen, steps = [], [], []
        if new_tokens == 0:
            return Generation(np.zeros(0, np.int32), np.zeros((0, self.vocab_size), np.float32), 0.0, np.zeros(0))
        started = time.perf_counter()
        if cache:
            logits, caches = self._prefill(prompt[None], np.int32(0), self.empty_cache())
        else:
            sequence = list(prompt)
            logits = self._full(np.array([sequence], dtype=np.int32))
        logits = ops.convert_to_numpy(logits)[0]
        prefill = time.perf_counter() - started
        for step in range(new_tokens):
            if step:
                started = time.perf_counter()
                if cache:
                    position = ops.convert_to_tensor(len(prompt) + step - 1, dtype="int32")
                    logits, caches = self._step(ops.convert_to_tensor([[tokens[-1]]], dtype="int32"), position,
                                                caches)
                else:
                    logits = self._full(np.array([sequence], dtype=np.int32))
                logits = ops.convert_to_numpy(logits)[0]
                steps.append(time.perf_counter() - started)
            logits_seen.append(logits)
            if greedy:
                token = int(np.argmax(logits))
            else:
                probs = next_token_probs(logits, temperature, top_k, top_p)
                token = int(min(np.searchsorted(np.cumsum(probs), rng.random(), side="right"), len(probs) - 1))
            tokens.append(token)
            if not cache:
                sequence.append(token)
        return Generation(np.array(tokens, np.int32), np.array(logits_seen, np.float32), prefill, np.array(steps))


def attention_and_probs(model, token_ids):
    """Every head's causal attention and every position's next-token distribution, in one pass.

    token_ids: 1-D ids (n <= context). Returns (weights float32 (num_layers,
    num_heads, n, n): row i is position i's attention over positions 0..i;
    probs float32 (n, vocab): row i is p(token i + 1 | tokens 0..i)).
    """
    embedding, blocks, final_norm, head = _parts(model)
    ids = np.asarray(token_ids)
    if ids.ndim != 1 or not 1 <= len(ids) <= embedding.max_length:
        raise ValueError(f"token_ids must be 1-D with 1 to context = {embedding.max_length} ids; "
                         f"got shape {ids.shape}")
    x = embedding(ops.convert_to_tensor(ids[None], dtype="int32"))
    maps = []
    for block in blocks:
        x, weights = block(x, return_attention_scores=True)
        maps.append(ops.convert_to_numpy(weights)[0])
    probs = ops.convert_to_numpy(ops.softmax(head(final_norm(x)), axis=-1))[0]
    return np.stack(maps).astype(np.float32), probs.astype(np.float32)


def distinct_n(texts, n):
    """Distinct word n-grams / all word n-grams over `texts` (Li et al., 2016): 1 = no repetition.

    texts: list of str, split on whitespace; n >= 1. Returns a float in [0, 1]
    (0 when the texts hold no n-gram).
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a list of str, one sample each; got one str")
    n = _positive_int("n", n)
    grams = [tuple(words[i:i + n]) for words in (text.split() for text in texts)
             for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0

