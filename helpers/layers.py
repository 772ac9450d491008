"""Self-attention as Keras layers, built from the formulas (notebooks 02-04).

    SelfAttention            softmax((x W_Q)(x W_K)^T / sqrt(d_k)) (x W_V)
    MultiHeadAttention       Concat(head_1, ..., head_h) W_O (softmax or linear heads)
    SinusoidalEncoding       x + PE, PE[pos, 2i] = sin(pos / 10000^(2i/d))
    PositionalEmbedding      Embedding(token_ids) * sqrt(d_model) + position
    TransformerEncoderBlock  attention, then feed-forward, each with a residual and a LayerNorm
    TransformerDecoderBlock  causal self-attention, cross-attention over the encoder output,
                             then feed-forward, each with a residual and a LayerNorm

Every layer is written with `keras.ops`, so it runs unchanged on the
TensorFlow backend and on a GPU; saves and loads with `model.save("x.keras")`
and `keras.models.load_model`; and returns its attention weights when called
with `return_attention_scores=True`. Masks follow `helpers.masks`: boolean,
True where attention is allowed; `attention_mask=` broadcasts to (batch,
n_q, n_k) (a rank-2 one is (n_q, n_k)), and `mask=` is only Keras's
per-token mask (batch, n). A wrong input raises a `ValueError` (a
`TypeError` for a wrong dtype) naming the argument, the expected shape and
the shape given.
"""
import math

import numpy as np
import keras
from keras import ops

from helpers.masks import _dtype, _positive_int, causal_mask, combine_masks

__all__ = [
    "SelfAttention",
    "MultiHeadAttention",
    "copy_weights_from_keras",
    "copy_weights_to_keras",
    "sinusoidal_encoding",
    "SinusoidalEncoding",
    "PositionalEmbedding",
    "TransformerEncoderBlock",
    "TransformerDecoderBlock",
]

# Scores of masked keys: exp() of it underflows to exactly 0 in float32.
_MASKED_SCORE = -1e9

# How a head turns queries and keys into weights (MultiHeadAttention's kind=).
ATTENTION_KINDS = ("softmax", "linear")


def _check_shape(name, shape, expected):
    """Raise a ValueError naming `name` unless `shape` matches `expected`.

    expected: a tuple of sizes (int) and free dimensions (str, e.g. "batch").
    A dimension of None is unknown until run time and fits any size.
    """
    shape = tuple(shape)
    fits = len(shape) == len(expected) and all(
        isinstance(want, str) or got is None or got == want for got, want in zip(shape, expected)
    )
    if not fits:
        raise ValueError(f"{name} must have shape ({', '.join(map(str, expected))}); got shape {shape}")


def _check_length(name, shape, max_length):
    """Raise unless the sequence length shape[1] (None: unknown until run time) <= max_length."""
    if shape[1] is not None and shape[1] > max_length:
        raise ValueError(
            f"{name} must have at most max_length = {max_length} positions, shape (batch, n <= "
            f"{max_length}, ...); got shape {tuple(shape)}"
        )


def _fits(shape, target):
    """Whether `shape` broadcasts to `target`; None (unknown until run time) fits."""
    return len(shape) <= len(target) and all(
        got in (1, None) or want is None or got == want
        for got, want in zip(reversed(shape), reversed(target))
    )


def _check_mask_fits(name, mask, target):
    """Raise unless `mask` is boolean and broadcasts to `target` = (batch, n_q, n_k)."""
    if _dtype(mask) != "bool":
        raise TypeError(f"{name} must be boolean (True where attention is allowed); got dtype {_dtype(mask)}")
    shape = tuple(mask.shape)
    if not _fits(shape, target):
        raise ValueError(f"{name} must broadcast to (batch, n_q, n_k) = {target}; got shape {shape}")


_USE_ATTENTION_MASK = (
    ". Pass a query x key mask, such as causal_mask(n) (n_q, n_k) or padding_mask(ids) "
    "(batch, 1, n), as attention_mask="
)


def _token_mask(name, mask, batch, n, hint=""):
    """A per-token mask (batch, n), True at real tokens, as (batch, 1, n): the
    same keys hidden from every query. `hint` ends the error message."""
    if _dtype(mask) != "bool":
        raise TypeError(f"{name} must be boolean (True at real tokens); got dtype {_dtype(mask)}")
    if len(mask.shape) != 2 or not _fits(tuple(mask.shape), (batch, n)):
        raise ValueError(
            f"{name} must be a padding mask (batch, n) = {(batch, n)}, True at real tokens; "
            f"got shape {tuple(mask.shape)}{hint}"
        )
    return ops.expand_dims(mask, axis=1)


def _layer_mask(mask, attention_mask, x_shape):
    """Keras's per-token `mask` (batch, n) AND `attention_mask` (broadcastable
    to (batch, n_q, n_k)) of a self-attention layer, or None if neither is given."""
    batch, n = x_shape[0], x_shape[1]
    if mask is not None:
        mask = _token_mask("mask", mask, batch, n, hint=_USE_ATTENTION_MASK)
    if attention_mask is not None:
        _check_mask_fits("attention_mask", attention_mask, (batch, n, n))
    return combine_masks(mask, attention_mask)


def _attend(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v, the softmax over the keys (last axis).

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v), mask: boolean,
    broadcastable to (..., n_q, n_k), True where attention is allowed. A query
    whose keys are all masked gets zero weights and a zero output, never NaN.
    Returns (output (..., n_q, d_v), weights (..., n_q, n_k)).
    """
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = ops.where(mask, scores, _MASKED_SCORE)
    if scores.shape[-1] == 1:
        # One key (a decoder's first step) gets all the weight; Keras's softmax
        # would warn that a softmax over one entry is always 1.
        weights = ops.ones_like(scores)
    else:
        weights = ops.softmax(scores, axis=-1)
    if mask is not None:
        # A row with every key masked came out uniform; it must be all zeros.
        weights = ops.where(mask, weights, 0.0)
    return ops.matmul(weights, v), weights


# A denominator below this is a query whose keys are all hidden: its output is 0.
_TINY = 1e-30


def _attend_linear(q, k, v, key_mask=None, return_weights=False):
    """Linear attention (Katharopoulos et al., 2020), phi(x) = elu(x) + 1:

        out_i = phi(q_i)^T (sum_j m_j phi(k_j) v_j^T) / phi(q_i)^T (sum_j m_j phi(k_j))

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v); key_mask:
    boolean, broadcastable to (..., 1, n_k), m_j = True at keys that may be
    attended to. The sums over keys are (d_k, d_v) and (d_k,): no (n_q, n_k)
    matrix is formed unless return_weights. A query with every key hidden
    gets a zero output. Returns (output (..., n_q, d_v), weights (..., n_q,
    n_k) or None): the weights phi(q_i).m_j phi(k_j), normalised per row, are
    what the sums compute implicitly.
    """
    fq, fk = ops.elu(q) + 1.0, ops.elu(k) + 1.0
    if key_mask is not None:
        fk = fk * ops.cast(ops.swapaxes(key_mask, -1, -2), fk.dtype)   # (..., n_k, 1) zeros hidden keys
    kv = ops.matmul(ops.swapaxes(fk, -1, -2), v)                          # (..., d_k, d_v)
    z = ops.sum(fk, axis=-2, keepdims=True)                               # (..., 1, d_k)
    denominator = ops.maximum(ops.sum(fq * z, axis=-1, keepdims=True), _TINY)   # (..., n_q, 1)
    output = ops.matmul(fq, kv) / denominator
    if not return_weights:
        return output, None
    return output, ops.matmul(fq, ops.swapaxes(fk, -1, -2)) / denominator


@keras.saving.register_keras_serializable(package="helpers")
class SelfAttention(keras.layers.Layer):
    """Single-head self-attention: softmax((x W_Q)(x W_K)^T / sqrt(units)) (x W_V).

    units: d_k = d_v, the size of each query, key and value. W_Q, W_K, W_V are
    learned (d_model, units) matrices without bias; there is no output projection.
    Call with x (batch, n, d_model); attention_mask (optional, boolean)
    broadcastable to (batch, n_q, n_k), True where allowed, e.g. causal_mask(n)
    (n_q, n_k) or padding_mask(ids) (batch, 1, n); mask (optional): Keras's
    per-token mask (batch, n), True at real tokens, passed on from
    `PositionalEmbedding(mask_zero=True)`; use_causal_mask=True also hides later
    positions. Returns output (batch, n, units), and with
    return_attention_scores=True also weights (batch, n_q, n_k) whose rows sum
    to 1 over the keys (0 for a query with no allowed key).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int("units", units)
        self.w_q = keras.layers.Dense(units, use_bias=False, name="w_q")
        self.w_k = keras.layers.Dense(units, use_bias=False, name="w_k")
        self.w_v = keras.layers.Dense(units, use_bias=False, name="w_v")
        self.supports_masking = True

    def build(self, input_shape):
        _check_shape("x", input_shape, ("batch", "n", "d_model"))
        for projection in (self.w_q, self.w_k, self.w_v):
            projection.build(input_shape)

    def call(self, x, mask=None, attention_mask=None, use_causal_mask=False,
             return_attention_scores=False):
        _check_shape("x", x.shape, ("batch", "n", self.w_q.kernel.shape[0]))
        allowed = _layer_mask(mask, attention_mask, tuple(x.shape))
        if use_causal_mask:
            allowed = combine_masks(allowed, causal_mask(ops.shape(x)[1]))
        output, weights = _attend(self.w_q(x), self.w_k(x), self.w_v(x), allowed)
        return (output, weights) if return_attention_scores else output

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="helpers")
class MultiHeadAttention(keras.layers.Layer):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O,
    head_i = Attention(Q W_Q_i, K W_K_i, V W_V_i).

    num_heads: h; key_dim: the size of each head's queries, keys and values;
    use_bias: whether the four projections add a bias (True, as in Keras).
    Call with query (batch, n_q, d_q), value (batch, n_k, d_v) and key (batch,
    n_k, d_k), key = value unless given: self-attention is query = value = x.
    attention_mask (optional, boolean) broadcasts to (batch, n_q, n_k), True
    where allowed (a rank-2 one is (n_q, n_k), e.g. causal_mask(n));
    use_causal_mask=True also hides key j > query i. Returns
    output (batch, n_q, d_q), and with return_attention_scores=True also weights
    (batch, num_heads, n_q, n_k). The weights hold the numbers of
    `keras.layers.MultiHeadAttention` with the head axes flattened; see
    `copy_weights_from_keras`. A query with no allowed key gets zero weights
    and a zero output (Keras's default fused call averages all values there
    instead; notebook 04 shows it), and masks attached to the inputs by Keras
    are not read.

    kind: "softmax" (the paper's Attention, above) or "linear": each head
    computes linear attention (Katharopoulos et al., 2020; `_attend_linear`),
    whose cost grows with n instead of n^2. Linear attention can hide keys
    (attention_mask broadcastable to (batch, 1, n_k), e.g. padding) but not a
    query x key pattern such as the causal mask.
    """

    def __init__(self, num_heads, key_dim, use_bias=True, kind="softmax", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = _positive_int("num_heads", num_heads)
        self.key_dim = _positive_int("key_dim", key_dim)
        self.use_bias = bool(use_bias)
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"kind must be one of {ATTENTION_KINDS}; got {kind!r}")
        self.kind = kind
        self.supports_masking = True

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            _check_shape(name, shape, ("batch", "n", "d"))
        width = self.num_heads * self.key_dim
        self.w_q = keras.layers.Dense(width, use_bias=self.use_bias, name="w_q")
        self.w_k = keras.layers.Dense(width, use_bias=self.use_bias, name="w_k")
        self.w_v = keras.layers.Dense(width, use_bias=self.use_bias, name="w_v")
        self.w_o = keras.layers.Dense(query_shape[-1], use_bias=self.use_bias, name="w_o")
        self.w_q.build(query_shape)
        self.w_k.build(key_shape)
        self.w_v.build(value_shape)
        self.w_o.build((*query_shape[:-1], width))

    def call(self, query, value, key=None, attention_mask=None, use_causal_mask=False,
             return_attention_scores=False):
        key = value if key is None else key
        batch, n_q, n_k = query.shape[0], query.shape[1], value.shape[1]
        _check_shape("query", query.shape, ("batch", "n_q", self.w_q.kernel.shape[0]))
        _check_shape("value", value.shape, (batch or "batch", n_k or "n_k", self.w_v.kernel.shape[0]))
        _check_shape("key", key.shape, (batch or "batch", n_k or "n_k", self.w_k.kernel.shape[0]))
        if attention_mask is not None:
            _check_mask_fits("attention_mask", attention_mask, (batch, n_q, n_k))
        if self.kind == "linear" and (use_causal_mask or (
                attention_mask is not None and len(attention_mask.shape) >= 2 and attention_mask.shape[-2] != 1)):
            raise ValueError(
                "linear attention can hide keys only: give attention_mask of shape (batch, 1, n_k), such as "
                f"padding_mask(ids); got use_causal_mask={use_causal_mask}, attention_mask of shape "
                f"{None if attention_mask is None else tuple(attention_mask.shape)} (use kind='softmax')"
            )
        if use_causal_mask:
            attention_mask = combine_masks(
                attention_mask, causal_mask(ops.shape(query)[1], ops.shape(value)[1])
            )
        if attention_mask is not None and len(attention_mask.shape) == 3:
            # One mask for every head: (batch, n_q, n_k) -> (batch, 1, n_q, n_k);
            # a mask of lower rank broadcasts over heads already.
            attention_mask = ops.expand_dims(attention_mask, axis=1)
        q = self._split_heads(self.w_q(query))
        k = self._split_heads(self.w_k(key))
        v = self._split_heads(self.w_v(value))
        if self.kind == "linear":
            heads, weights = _attend_linear(q, k, v, attention_mask, return_weights=return_attention_scores)
        else:
            heads, weights = _attend(q, k, v, attention_mask)
        output = self.w_o(self._concatenate_heads(heads))
        return (output, weights) if return_attention_scores else output

    def _split_heads(self, x):
        """(batch, n, num_heads * key_dim) -> (batch, num_heads, n, key_dim)."""
        x = ops.reshape(x, (-1, ops.shape(x)[1], self.num_heads, self.key_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def _concatenate_heads(self, x):
        """(batch, num_heads, n, key_dim) -> (batch, n, num_heads * key_dim)."""
        x = ops.transpose(x, (0, 2, 1, 3))
        return ops.reshape(x, (-1, ops.shape(x)[1], self.num_heads * self.key_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "use_bias": self.use_bias,
            "kind": self.kind,
        }


def _weight_pairs(ours, keras_mha):
    """Matching (ours, keras) weights of two built multi-head attention layers.

    Keras stores W_Q, W_K, W_V as (d, heads, key_dim) with biases (heads,
    key_dim), and W_O as (heads, key_dim, d_out); ours hold the same numbers
    with the head axes flattened, (d, heads * key_dim), so a reshape converts.
    """
    if not (ours.built and keras_mha.built):
        raise ValueError(
            "ours and keras_mha must be built: call each once on inputs of the same shapes"
        )
    ours_dense = (ours.w_q, ours.w_k, ours.w_v, ours.w_o)
    keras_dense = (keras_mha.query_dense, keras_mha.key_dense, keras_mha.value_dense,
                   keras_mha.output_dense)
    layout = {
        "num_heads": (ours.num_heads, keras_mha.num_heads),
        "key_dim": (ours.key_dim, keras_mha.key_dim),
        "value_dim": (ours.key_dim, keras_mha.value_dim),
        "use_bias": (ours.use_bias, keras_mha.use_bias),
        "query, key, value sizes": (
            tuple(layer.kernel.shape[0] for layer in ours_dense[:3]),
            tuple(layer.kernel.shape[0] for layer in keras_dense[:3]),
        ),
        "output size": (ours.w_o.kernel.shape[-1], keras_mha.output_dense.kernel.shape[-1]),
    }
    for name, (ours_value, keras_value) in layout.items():
        if ours_value != keras_value:
            raise ValueError(
                f"keras_mha must have the layout of ours: {name} {ours_value} expected; got {keras_value}"
            )
    return [
        (ours_w, keras_w)
        for ours_layer, keras_layer in zip(ours_dense, keras_dense)
        for ours_w, keras_w in zip(ours_layer.weights, keras_layer.weights)
    ]


def copy_weights_from_keras(ours, keras_mha):
    """Give `ours` (MultiHeadAttention) the weights of `keras_mha`
    (keras.layers.MultiHeadAttention, default attention axes), both built on
    the same input shapes; then both compute the same function."""
    for ours_w, keras_w in _weight_pairs(ours, keras_mha):
        ours_w.assign(ops.reshape(keras_w, ours_w.shape))


def copy_weights_to_keras(ours, keras_mha):
    """Give `keras_mha` (keras.layers.MultiHeadAttention) the weights of `ours`
    (MultiHeadAttention), both built on the same input shapes."""
    for ours_w, keras_w in _weight_pairs(ours, keras_mha):
        keras_w.assign(ops.reshape(ours_w, keras_w.shape))


def sinusoidal_encoding(length, depth):
    """The fixed position code of Vaswani et al. (2017), as a NumPy array.

        PE[pos, 2i]     = sin(pos / 10000^(2i / depth))
        PE[pos, 2i + 1] = cos(pos / 10000^(2i / depth))

    length: number of positions; depth: size of each code (d_model).
    Returns float32 (length, depth).
    """
    length, depth = _positive_int("length", length), _positive_int("depth", depth)
    positions = np.arange(length)[:, np.newaxis]
    two_i = np.arange(0, depth, 2)
    angles = positions / 10000 ** (two_i / depth)
    encoding = np.zeros((length, depth))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : depth // 2])
    return encoding.astype(np.float32)


@keras.saving.register_keras_serializable(package="helpers")
class SinusoidalEncoding(keras.layers.Layer):
    """x + PE[:n]: adds the fixed sine/cosine code of `sinusoidal_encoding`.

    max_length: the most positions an input may have. Call with x (batch, n,
    d_model), n <= max_length. Returns (batch, n, d_model). Nothing is learned.
    """

    def __init__(self, max_length, **kwargs):
        super().__init__(**kwargs)
        self.max_length = _positive_int("max_length", max_length)
        self.supports_masking = True

    def build(self, input_shape):
        _check_shape("x", input_shape, ("batch", "n", "d_model"))
        self.encoding = sinusoidal_encoding(self.max_length, input_shape[-1])

    def call(self, x):
        _check_shape("x", x.shape, ("batch", "n", self.encoding.shape[-1]))
        _check_length("x", x.shape, self.max_length)
        n = ops.shape(x)[1]
        return x + ops.convert_to_tensor(self.encoding, dtype=x.dtype)[:n]

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length}


@keras.saving.register_keras_serializable(package="helpers")
class PositionalEmbedding(keras.layers.Layer):
    """Embedding(token_ids) * sqrt(d_model) + position(0, 1, ..., n - 1).

    vocab_size: token ids run from 0 to vocab_size - 1; max_length: the most
    tokens a sequence may have; d_model: size of each vector; kind: "learned"
    (one trained vector per position, as in BERT and GPT) or "sinusoidal"
    (the fixed code of Vaswani et al., 2017); mask_zero: id 0 is padding, and
    the output carries a (batch, n) mask, True at real tokens, that Keras
    hands to the next layer's `mask` argument. The sqrt(d_model) scale is the
    paper's (section 3.4), which gives no reason for it; notebook 05 measures
    what it does (with Keras's default initialisation, scaled tokens are still
    shorter than the sinusoidal code).
    Call with integer token_ids (batch, n). Returns (batch, n, d_model).
    """

    def __init__(self, vocab_size, max_length, d_model, kind="learned", mask_zero=False, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _positive_int("vocab_size", vocab_size)
        self.max_length = _positive_int("max_length", max_length)
        self.d_model = _positive_int("d_model", d_model)
        if kind not in ("learned", "sinusoidal"):
            raise ValueError(f'kind must be "learned" or "sinusoidal"; got {kind!r}')
        self.kind = kind
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.token_embedding = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")
        if kind == "learned":
            self.position_embedding = keras.layers.Embedding(max_length, d_model, name="position_embedding")
        else:
            self.position_encoding = SinusoidalEncoding(max_length, name="position_encoding")

    def build(self, input_shape):
        _check_shape("token_ids", input_shape, ("batch", "n"))
        self.token_embedding.build(input_shape)
        if self.kind == "learned":
            self.position_embedding.build((input_shape[1],))
        else:
            self.position_encoding.build((*input_shape, self.d_model))

    def call(self, token_ids):
        if not keras.backend.is_int_dtype(_dtype(token_ids)):
            raise TypeError(
                f"token_ids must hold integer token ids; got dtype {_dtype(token_ids)} "
                '(for a model input, use keras.Input(shape=(n,), dtype="int32"))'
            )
        _check_shape("token_ids", token_ids.shape, ("batch", "n"))
        _check_length("token_ids", token_ids.shape, self.max_length)
        if hasattr(token_ids, "numpy"):  # values known now, not while tracing a graph
            ids = token_ids.numpy()
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
                raise ValueError(
                    f"token_ids must lie in [0, vocab_size = {self.vocab_size}); "
                    f"got ids from {ids.min()} to {ids.max()}"
                )
        x = self.token_embedding(token_ids) * math.sqrt(self.d_model)
        if self.kind == "learned":
            return x + self.position_embedding(ops.arange(ops.shape(token_ids)[1]))
        return self.position_encoding(x)

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0) if self.mask_zero else None

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "max_length": self.max_length,
            "d_model": self.d_model,
            "kind": self.kind,
            "mask_zero": self.mask_zero,
        }


def _block_sizes(d_model, num_heads, d_ff, dropout):
    """A Transformer block's (d_model, num_heads, d_ff, dropout), checked."""
    d_model = _positive_int("d_model", d_model)
    num_heads = _positive_int("num_heads", num_heads)
    d_ff = _positive_int("d_ff", d_ff)
    if d_model % num_heads:
        raise ValueError(
            f"d_model must split evenly into num_heads: got d_model = {d_model}, num_heads = {num_heads}"
        )
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a rate in [0, 1); got {dropout}")
    return d_model, num_heads, d_ff, float(dropout)


@keras.saving.register_keras_serializable(package="helpers")
def _gelu_tanh(x):
    """GELU's tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable(package="helpers")
def _gelu(x):
    """GELU, x Φ(x) with Φ the standard normal CDF (computed with erf)."""
    return keras.activations.gelu(x, approximate=False)


_ACTIVATIONS = {"relu": "relu", "gelu": _gelu, "gelu_tanh": _gelu_tanh}


def _block_config(block):
    """The sizes a Transformer block is built from, as its config holds them."""
    return {name: getattr(block, name) for name in ("d_model", "num_heads", "d_ff", "dropout", "norm_first")}


@keras.saving.register_keras_serializable(package="helpers")
class TransformerEncoderBlock(keras.layers.Layer):
    """One encoder layer of Vaswani et al. (2017).

        post-LN (norm_first=False, the paper):
            x = LayerNorm(x + Dropout(MultiHead(x, x, x)))
            x = LayerNorm(x + Dropout(FFN(x)))
        pre-LN (norm_first=True, easier to train deep):
            x = x + Dropout(MultiHead(LayerNorm(x), ...))
            x = x + Dropout(FFN(LayerNorm(x)))

    with FFN(x) = act(x W_1 + b_1) W_2 + b_2, applied at each position.
    d_model: size of each token vector; num_heads: heads of d_model / num_heads
    each; d_ff: hidden size of the FFN; dropout: rate on each sub-layer output;
    activation: act, "relu" (max(0, x), the paper's), "gelu" (exact,
    x Φ(x) with the normal CDF, as BERT) or "gelu_tanh" (its tanh
    approximation); epsilon: the LayerNorms' epsilon (Keras's default 1e-3;
    BERT uses 1e-12). Call with x (batch, n, d_model); attention_mask and mask (optional,
    boolean) as in SelfAttention: a query x key mask broadcastable to (batch,
    n_q, n_k), and Keras's per-token mask (batch, n), True at real tokens.
    Returns (batch, n, d_model), and with return_attention_scores=True also
    the weights (batch, num_heads, n, n). attention_kind: "softmax" (the
    paper's) or "linear" (`MultiHeadAttention(kind="linear")`: cost linear in
    n; Keras's padding mask is honoured, attention_mask= is not accepted).
    """

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1, norm_first=False, activation="relu",
                 epsilon=1e-3, attention_kind="softmax", **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.d_ff, self.dropout = _block_sizes(
            d_model, num_heads, d_ff, dropout)
        self.norm_first = bool(norm_first)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}; got {activation!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < 1:
            raise ValueError(f"epsilon must be a small positive number (LayerNorm's); got {epsilon!r}")
        self.activation, self.epsilon = activation, float(epsilon)
        self.supports_masking = True
        if attention_kind not in ATTENTION_KINDS:
            raise ValueError(f"attention_kind must be one of {ATTENTION_KINDS}; got {attention_kind!r}")
        self.attention_kind = attention_kind
        self.attention = MultiHeadAttention(num_heads, d_model // num_heads, kind=attention_kind,
                                            name="attention")
        self.feed_forward = keras.Sequential(
            [keras.layers.Dense(d_ff, activation=_ACTIVATIONS[activation]), keras.layers.Dense(d_model)],
            name="feed_forward",
        )
        self.attention_norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="attention_norm")
        self.feed_forward_norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="feed_forward_norm")
        self.residual_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        _check_shape("x", input_shape, ("batch", "n", self.d_model))
        self.attention.build(input_shape, input_shape)
        self.feed_forward.build(input_shape)
        self.attention_norm.build(input_shape)
        self.feed_forward_norm.build(input_shape)

    def _allowed(self, mask, attention_mask, x_shape):
        """The mask the attention layer gets: query x key for softmax heads, keys only for linear ones."""
        if self.attention_kind == "softmax":
            return _layer_mask(mask, attention_mask, x_shape)
        if attention_mask is not None:
            raise ValueError("attention_mask is not accepted by a block with attention_kind='linear': linear "
                             "attention hides padding keys (Keras's mask) only")
        return None if mask is None else _token_mask("mask", mask, x_shape[0], x_shape[1])

    def _attend(self, h, allowed, return_attention_scores):
        if return_attention_scores:
            return self.attention(h, h, attention_mask=allowed, return_attention_scores=True)
        return self.attention(h, h, attention_mask=allowed), None

    def call(self, x, mask=None, attention_mask=None, training=False, return_attention_scores=False):
        _check_shape("x", x.shape, ("batch", "n", self.d_model))
        allowed = self._allowed(mask, attention_mask, tuple(x.shape))
        if self.norm_first:
            attended, weights = self._attend(self.attention_norm(x), allowed, return_attention_scores)
            x = x + self.residual_dropout(attended, training=training)
            x = x + self.residual_dropout(self.feed_forward(self.feed_forward_norm(x)), training=training)
        else:
            attended, weights = self._attend(x, allowed, return_attention_scores)
            x = self.attention_norm(x + self.residual_dropout(attended, training=training))
            x = self.feed_forward_norm(x + self.residual_dropout(self.feed_forward(x), training=training))
        return (x, weights) if return_attention_scores else x

    def compute_mask(self, x, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), **_block_config(self), "activation": self.activation,
                "epsilon": self.epsilon, "attention_kind": self.attention_kind}


@keras.saving.register_keras_serializable(package="helpers")
class TransformerDecoderBlock(keras.layers.Layer):
    """One decoder layer of Vaswani et al. (2017): the target attends to itself
    (causally), then to the encoder output ("context"), then a feed-forward.

        post-LN (norm_first=False, the paper):
            x = LayerNorm(x + Dropout(MultiHead(x, x, x, causal)))
            x = LayerNorm(x + Dropout(MultiHead(x, context, context)))
            x = LayerNorm(x + Dropout(FFN(x)))
        pre-LN (norm_first=True): x = x + Dropout(SubLayer(LayerNorm(x))) for each.

    Cross-attention takes its queries from the target and its keys and values
    from the source: weights = softmax((x W_Q)(context W_K)^T / sqrt(d_k)).
    d_model, num_heads, d_ff, dropout, norm_first: as TransformerEncoderBlock.
    Call with x (batch, n_t, d_model), the target so far, and context (batch,
    n_s, d_c), the encoder output; x_mask (batch, n_t) and context_mask
    (batch, n_s), optional per-token masks (as Keras's `mask`, one per input),
    boolean, True at real (non-padding) tokens.
    Target position i sees target positions j <= i only, whatever x_mask says.
    Returns (batch, n_t, d_model), and with return_attention_scores=True the
    tuple (output, self-attention weights (batch, num_heads, n_t, n_t),
    cross-attention weights (batch, num_heads, n_t, n_s)).
    """

    def __init__(self, d_model, num_heads, d_ff, dropout=0.1, norm_first=False, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.d_ff, self.dropout = _block_sizes(
            d_model, num_heads, d_ff, dropout)
        self.norm_first = bool(norm_first)
        key_dim = d_model // num_heads
        self.self_attention = MultiHeadAttention(num_heads, key_dim, name="self_attention")
        self.cross_attention = MultiHeadAttention(num_heads, key_dim, name="cross_attention")
        self.feed_forward = keras.Sequential(
            [keras.layers.Dense(d_ff, activation="relu"), keras.layers.Dense(d_model)],
            name="feed_forward",
        )
        self.self_attention_norm = keras.layers.LayerNormalization(name="self_attention_norm")
        self.cross_attention_norm = keras.layers.LayerNormalization(name="cross_attention_norm")
        self.feed_forward_norm = keras.layers.LayerNormalization(name="feed_forward_norm")
        self.residual_dropout = keras.layers.Dropout(dropout)

    def build(self, x_shape, context_shape):
        _check_shape("x", x_shape, ("batch", "n_t", self.d_model))
        _check_shape("context", context_shape, ("batch", "n_s", "d_c"))
        self.self_attention.build(x_shape, x_shape)
        self.cross_attention.build(x_shape, context_shape)
        self.feed_forward.build(x_shape)
        for norm in (self.self_attention_norm, self.cross_attention_norm, self.feed_forward_norm):
            norm.build(x_shape)

    def call(self, x, context, x_mask=None, context_mask=None, training=False,
             return_attention_scores=False):
        _check_shape("x", x.shape, ("batch", "n_t", self.d_model))
        batch, n_t = x.shape[0], x.shape[1]
        _check_shape("context", context.shape,
                     (batch or "batch", "n_s", self.cross_attention.w_k.kernel.shape[0]))
        self_mask = None if x_mask is None else _token_mask("x_mask", x_mask, batch, n_t)
        if context_mask is not None:
            context_mask = _token_mask("context_mask", context_mask, batch, context.shape[1])

        def sublayer(x, norm, compute):
            if self.norm_first:
                out, weights = compute(norm(x))
                return x + self.residual_dropout(out, training=training), weights
            out, weights = compute(x)
            return norm(x + self.residual_dropout(out, training=training)), weights

        x, self_weights = sublayer(x, self.self_attention_norm, lambda h: self.self_attention(
            h, h, attention_mask=self_mask, use_causal_mask=True, return_attention_scores=True))
        x, cross_weights = sublayer(x, self.cross_attention_norm, lambda h: self.cross_attention(
            h, context, attention_mask=context_mask, return_attention_scores=True))
        x, _ = sublayer(x, self.feed_forward_norm, lambda h: (self.feed_forward(h), None))
        return (x, self_weights, cross_weights) if return_attention_scores else x

    def get_config(self):
        return {**super().get_config(), **_block_config(self)}
