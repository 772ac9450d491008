"""Attention masks: which keys each query may look at (notebook 04).

The convention everywhere in the project: a mask is boolean, True where
attention is ALLOWED, and broadcasts to (..., n_q, n_k).

Every such mask is passed as `attention_mask=`: to `scaled_dot_product_attention`
and to the attention layers and encoder block of `helpers.layers`, as to
Keras's MultiHeadAttention. A rank-2 one is always (n_q, n_k), whatever the
batch size. A per-token mask (batch, n), True at real tokens, is another
thing: a layer's `mask=` is only that, Keras's own mask passed on from
`Embedding(mask_zero=True)` or `PositionalEmbedding` (so are the decoder
block's `x_mask=` and `context_mask=`); another shape there is a ValueError.

    padding_mask(token_ids)   (batch, 1, n)   True where the key is a real token
    causal_mask(n)            (n, n)          True where key j <= query i
    combine_masks(a, b, ...)  a AND b AND ... allowed only where every mask allows

NumPy arrays, lists and Python ints give NumPy results; backend tensors (and
symbolic Keras tensors) give tensors, computed with `keras.ops`, so the same
functions build masks inside the layers of `helpers.layers`.
"""
import numpy as np
import keras
from keras import ops

__all__ = ["padding_mask", "causal_mask", "combine_masks"]


def _namespace(*values):
    """`keras.ops` if any value is a tensor, else NumPy: both spell these ops alike."""
    if any(ops.is_tensor(v) or keras.backend.is_keras_tensor(v) for v in values):
        return ops
    return np


def _dtype(x):
    """x's dtype as a plain name ("bool", "int32"), for NumPy arrays and tensors alike."""
    return keras.backend.standardize_dtype(x.dtype)


def _positive_int(name, value):
    """`value` as an int, or a TypeError / ValueError that names `name`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer; got {value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)


def _broadcast_shape(a, b):
    """The shape a and b broadcast to, or None if they clash.

    A dimension of None is unknown until run time and is assumed to fit.
    """
    a = (1,) * (len(b) - len(a)) + tuple(a)
    b = (1,) * (len(a) - len(b)) + tuple(b)
    shape = []
    for x, y in zip(a, b):
        if x == 1 or x == y:
            shape.append(y)
        elif y == 1 or y is None:
            shape.append(x)
        elif x is None:
            shape.append(y)
        else:
            return None
    return tuple(shape)


def padding_mask(token_ids, pad_id=0):
    """token_ids != pad_id, with an axis for the queries.

    token_ids: integers (batch, n). Returns boolean (batch, 1, n): entry
    [b, 0, j] is True where key j of example b is a real token, so it
    broadcasts over every query of (batch, n_q, n_k).
    """
    xp = _namespace(token_ids)
    if xp is np:
        token_ids = np.asarray(token_ids)
    if not keras.backend.is_int_dtype(_dtype(token_ids)):
        raise TypeError(f"token_ids must hold integer token ids; got dtype {_dtype(token_ids)}")
    if len(token_ids.shape) != 2:
        raise ValueError(f"token_ids must have shape (batch, n); got shape {tuple(token_ids.shape)}")
    if isinstance(pad_id, (bool, np.bool_)) or not isinstance(pad_id, (int, np.integer)):
        raise TypeError(f"pad_id must be an integer token id; got {pad_id!r}")
    return xp.expand_dims(xp.not_equal(token_ids, pad_id), axis=1)


def causal_mask(n_q, n_k=None):
    """Query i may look at key j only if j <= i: no peeking at the future.

    n_q: number of queries; n_k: number of keys, n_q unless given. Python
    ints, or scalar integer tensors for lengths known only at run time.
    Returns boolean (n_q, n_k), True on and below the diagonal.
    """
    n_k = n_q if n_k is None else n_k
    xp = _namespace(n_q, n_k)
    if xp is np:
        n_q, n_k = _positive_int("n_q", n_q), _positive_int("n_k", n_k)
    query_positions = xp.expand_dims(xp.arange(n_q), axis=1)
    key_positions = xp.expand_dims(xp.arange(n_k), axis=0)
    return xp.greater_equal(query_positions, key_positions)


def combine_masks(*masks):
    """mask_1 AND mask_2 AND ...: attention allowed only where every mask allows it.

    masks: boolean arrays or tensors that broadcast together, e.g. a padding
    mask (batch, 1, n) and a causal mask (n, n); None means "no mask" and is
    skipped. Returns their broadcast logical AND, e.g. (batch, n, n), or None
    when every mask is None.
    """
    given = [(i, m) for i, m in enumerate(masks) if m is not None]
    if not given:
        return None
    xp = _namespace(*(m for _, m in given))
    if xp is np:
        given = [(i, np.asarray(m)) for i, m in given]
    shape = ()
    for i, mask in given:
        if _dtype(mask) != "bool":
            raise TypeError(
                f"masks[{i}] must be boolean (True where attention is allowed); got dtype {_dtype(mask)}"
            )
        combined = _broadcast_shape(shape, tuple(mask.shape))
        if combined is None:
            raise ValueError(
                f"masks[{i}] must broadcast with the masks before it, shape {shape}; "
                f"got shape {tuple(mask.shape)}"
            )
        shape = combined
    combined = given[0][1]
    for _, mask in given[1:]:
        combined = xp.logical_and(combined, mask)
    return combined
