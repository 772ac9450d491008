"""Scaled dot-product attention in NumPy (notebook 01).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Every public function checks its inputs at the boundary and raises a
`ValueError` (or `TypeError` for a wrong dtype) that names the argument,
the shape it expected and the shape it was given.
"""
import numpy as np

__all__ = ["softmax", "attention_scores", "scaled_dot_product_attention"]


def _as_float_array(name, x, min_rank):
    """`x` as a float array of rank >= `min_rank`, all values finite."""
    try:
        x = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like, got {type(x).__name__}") from err
    if x.dtype == bool or not np.issubdtype(x.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.ndim < min_rank:
        expected = ", ".join(["..."] + [f"d{i}" for i in range(min_rank)])
        raise ValueError(
            f"{name} must have rank >= {min_rank}, shape ({expected}); got shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(
            f"{name} of shape {x.shape} holds {np.size(x) - np.isfinite(x).sum()} "
            "NaN or infinite values; attention needs finite inputs"
        )
    return x.astype(np.result_type(x.dtype, np.float32))


def _as_mask(name, mask, target_shape, expected):
    """`mask` as a boolean array broadcast to `target_shape`; errors name `name`
    and the `expected` shape in letters, e.g. "(..., n_q, n_k)"."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            f"{name} must be boolean (True where attention is allowed), got dtype {mask.dtype}"
        )
    try:
        return np.broadcast_to(mask, target_shape)
    except ValueError:
        raise ValueError(
            f"{name} must broadcast to {expected} = {target_shape}; got shape {mask.shape}"
        ) from None


def softmax(x, axis=-1, mask=None):
    """exp(x_i - max x) / sum_j exp(x_j - max x) along `axis`.

    x: any shape. mask: boolean, broadcastable to x.shape, True where an entry
    takes part; masked entries get weight 0, and a slice with no entry left
    gets all zeros (never NaN). This `mask` masks entries of x itself, whatever
    x is; the (n_q, n_k) mask of attention is `attention_mask` below.
    Returns an array of x's shape whose slices along `axis` sum to 1 (or 0).
    """
    x = _as_float_array("x", x, min_rank=1)
    if mask is None:
        mask = np.ones(x.shape, dtype=bool)
    else:
        mask = _as_mask("mask", mask, x.shape, "x.shape")
    # Subtracting the largest allowed entry keeps exp() <= 1: no overflow.
    shifted = np.where(mask, x, -np.inf)
    largest = np.max(shifted, axis=axis, keepdims=True)
    largest = np.where(np.isfinite(largest), largest, 0.0)
    exp = np.where(mask, np.exp(np.where(mask, x - largest, 0.0)), 0.0)
    total = np.sum(exp, axis=axis, keepdims=True)
    return exp / np.where(total > 0, total, 1.0)


def attention_scores(q, k):
    """Q K^T / sqrt(d_k): how well each query matches each key.

    q: (..., n_q, d_k), k: (..., n_k, d_k).
    Returns scores (..., n_q, n_k).
    """
    q = _as_float_array("q", q, min_rank=2)
    k = _as_float_array("k", k, min_rank=2)
    d_k = q.shape[-1]
    if k.shape[-1] != d_k:
        raise ValueError(
            f"k must have the same last dimension d_k as q: q has shape {q.shape} "
            f"(d_k = {d_k}), so k must be (..., n_k, {d_k}); got shape {k.shape}"
        )
    if d_k == 0 or k.shape[-2] == 0:
        raise ValueError(
            f"q and k need at least one feature and one key: got q {q.shape}, k {k.shape}"
        )
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
    except ValueError:
        raise ValueError(
            f"q and k must have broadcastable batch dimensions: got q {q.shape}, k {k.shape}"
        ) from None
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)


def scaled_dot_product_attention(q, k, v, attention_mask=None):
    """softmax(q k^T / sqrt(d_k)) v.

    q: (..., n_q, d_k), k: (..., n_k, d_k), v: (..., n_k, d_v),
    attention_mask: boolean, broadcastable to (..., n_q, n_k), True where
    attention is allowed; a rank-2 mask is (n_q, n_k), e.g. `causal_mask(n)`.
    Returns (output (..., n_q, d_v), weights (..., n_q, n_k)). A query whose
    keys are all masked gets zero weights and a zero output.
    """
    scores = attention_scores(q, k)
    v = _as_float_array("v", v, min_rank=2)
    n_k = scores.shape[-1]
    if v.shape[-2] != n_k:
        raise ValueError(
            f"v must have one row per key: k has n_k = {n_k} rows, so v must be "
            f"(..., {n_k}, d_v); got shape {v.shape}"
        )
    try:
        np.broadcast_shapes(scores.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"v must have batch dimensions that broadcast with q and k {scores.shape[:-2]}; "
            f"got shape {v.shape}"
        ) from None
    if attention_mask is not None:
        attention_mask = _as_mask("attention_mask", attention_mask, scores.shape, "(..., n_q, n_k)")
    weights = softmax(scores, axis=-1, mask=attention_mask)
    return weights @ v, weights
