"""Memory-efficient attention: keys and values a block at a time, with an online softmax.

Rabe & Staats (2021), "Self-attention does not need O(n^2) memory"; Dao et
al. (2022), FlashAttention. For one block of queries Q_b, the keys and
values go by in blocks K_j, V_j, and three running quantities per query
replace the (n_q, n_k) weights:

    s = Q_b K_j^T / sqrt(d)                      scores of this block
    m' = max(m, rowmax(s))                       running maximum
    l  = l e^(m - m') + rowsum(e^(s - m'))       running sum of exponentials
    acc = acc e^(m - m') + e^(s - m') V_j        running weighted sum of values
    m = m'
    out = acc / l                                after the last block

Rescaling by e^(m - m') whenever the maximum grows keeps every exponential
<= 1, so nothing overflows, and the result equals softmax(Q K^T / sqrt(d)) V
exactly (up to rounding). Memory: one (block, block) tile of scores at a
time instead of (n_q, n_k).
"""
import math

import numpy as np

from helpers.attention import _as_float_array, scaled_dot_product_attention
from helpers.masks import causal_mask

__all__ = ["naive_attention", "blocked_attention", "blocked_attention_ops"]


def naive_attention(q, k, v, causal=False):
    """softmax(q k^T / sqrt(d)) v with the whole (..., n_q, n_k) weights in memory; returns the output only."""
    mask = causal_mask(q.shape[-2], k.shape[-2]) if causal else None
    return scaled_dot_product_attention(q, k, v, attention_mask=mask)[0]


def _check_shapes(q, k, v, block_size, causal):
    """The shapes of q (..., n_q, d), k (..., n_k, d), v (..., n_k, d_v) and the block size, checked."""
    if len(q) < 2 or len(k) < 2 or len(v) < 2 or k[-1] != q[-1] or v[-2] != k[-2]:
        raise ValueError(f"q (..., n_q, d), k (..., n_k, d) and v (..., n_k, d_v) must agree; got q {q}, "
                         f"k {k}, v {v}")
    try:
        np.broadcast_shapes(q[:-2], k[:-2], v[:-2])
    except ValueError:
        raise ValueError(f"q, k and v must have broadcastable batch axes; got q {q}, k {k}, v {v}") from None
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive int (keys and queries per block); got {block_size!r}")
    if causal and q[-2] != k[-2]:
        raise ValueError(f"causal attention needs as many queries as keys; got n_q = {q[-2]}, n_k = {k[-2]}")


def _checked(q, k, v, block_size, causal, key_mask):
    q, k, v = (_as_float_array(name, x, min_rank=2) for name, x in (("q", q), ("k", k), ("v", v)))
    _check_shapes(q.shape, k.shape, v.shape, block_size, causal)
    if key_mask is not None:
        key_mask = np.asarray(key_mask)
        if key_mask.dtype != bool or key_mask.shape[-1:] != k.shape[-2:-1]:
            raise ValueError(f"key_mask must be boolean (..., n_k = {k.shape[-2]}), True at real keys; got "
                             f"dtype {key_mask.dtype}, shape {key_mask.shape}")
    return q, k, v, key_mask


def blocked_attention(q, k, v, block_size=128, causal=False, key_mask=None, return_counts=False):
    """softmax(q k^T / sqrt(d)) v, a (block_size, block_size) tile of scores at a time (NumPy).

    q: (..., n_q, d), k: (..., n_k, d), v: (..., n_k, d_v), leading axes
    broadcast (batch, heads); block_size need not divide n. causal: query i
    sees keys j <= i (n_q = n_k), and tiles entirely in the future are
    skipped, not computed. key_mask: boolean (..., n_k), True at real keys.
    A query with no allowed key gets a zero output, never NaN.
    Returns the output (..., n_q, d_v); with return_counts=True also
    {"computed": tiles computed, "total": tiles of the full n_q x n_k grid}.
    """
    q, k, v, key_mask = _checked(q, k, v, block_size, causal, key_mask)
    n_q, n_k, scale = q.shape[-2], k.shape[-2], 1.0 / math.sqrt(q.shape[-1])
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    out = np.zeros((*batch, n_q, v.shape[-1]), dtype=np.result_type(q, k, v))
    computed = 0
    for qs in range(0, n_q, block_size):
        q_b = q[..., qs:qs + block_size, :]
        rows = q_b.shape[-2]
        m = np.full((*batch, rows, 1), -np.inf, dtype=out.dtype)
        total = np.zeros((*batch, rows, 1), dtype=out.dtype)
        acc = np.zeros((*batch, rows, v.shape[-1]), dtype=out.dtype)
        for ks in range(0, n_k, block_size):
            if causal and ks > qs + rows - 1:      # every key of this tile lies after every query: skip it
                break
            computed += 1
            s = q_b @ np.swapaxes(k[..., ks:ks + block_size, :], -1, -2) * scale
            allowed = np.ones(s.shape[-2:], dtype=bool)
            if causal:
                allowed = np.arange(qs, qs + rows)[:, None] >= np.arange(ks, ks + s.shape[-1])[None, :]
            if key_mask is not None:
                allowed = allowed & key_mask[..., None, ks:ks + s.shape[-1]]
            s = np.where(allowed, s, -np.inf)
            m_new = np.maximum(m, s.max(-1, keepdims=True))
            safe = np.where(np.isfinite(m_new), m_new, 0.0)          # rows with no allowed key yet
            p = np.where(allowed, np.exp(s - safe), 0.0)
            rescale = np.where(np.isfinite(m), np.exp(m - safe), 0.0)
            total = total * rescale + p.sum(-1, keepdims=True)
            acc = acc * rescale + p @ v[..., ks:ks + block_size, :]
            m = m_new
        out[..., qs:qs + rows, :] = acc / np.where(total > 0, total, 1.0)
    grid = math.ceil(n_q / block_size) * math.ceil(n_k / block_size)
    return (out, {"computed": computed, "total": grid}) if return_counts else out


def blocked_attention_ops(q, k, v, block_size=128, causal=False):
    """The same online softmax in `keras.ops`, for any backend; q, k, v tensors (..., n, d).

    Plain Python loops over query and key blocks (unrolled when traced): each step holds one
    (..., block, block) tile of scores. Returns the output (..., n_q, d_v).
    """
    from keras import ops

    q, k, v = (ops.convert_to_tensor(x) for x in (q, k, v))
    _check_shapes(tuple(q.shape), tuple(k.shape), tuple(v.shape), block_size, causal)
    n_q, n_k, scale = q.shape[-2], k.shape[-2], 1.0 / math.sqrt(q.shape[-1])
    outputs = []
    for qs in range(0, n_q, block_size):
        q_b = q[..., qs:qs + block_size, :]
        rows = q_b.shape[-2]
        m = ops.full((*q_b.shape[:-1], 1), -np.inf, dtype=q.dtype)
        total = ops.zeros_like(m)
        acc = ops.zeros((*q_b.shape[:-1], v.shape[-1]), dtype=q.dtype)
        for ks in range(0, n_k, block_size):
            if causal and ks > qs + rows - 1:
                break
            k_b, v_b = k[..., ks:ks + block_size, :], v[..., ks:ks + block_size, :]
            s = ops.matmul(q_b, ops.swapaxes(k_b, -1, -2)) * scale
            if causal:
                allowed = np.arange(qs, qs + rows)[:, None] >= np.arange(ks, ks + k_b.shape[-2])[None, :]
                s = ops.where(allowed, s, -np.inf)
            m_new = ops.maximum(m, ops.max(s, axis=-1, keepdims=True))
            p = ops.exp(s - m_new)                                   # causal rows always keep key 0
            rescale = ops.exp(m - m_new)
            total = total * rescale + ops.sum(p, axis=-1, keepdims=True)
            acc = acc * rescale + ops.matmul(p, v_b)
            m = m_new
        outputs.append(acc / total)
    return ops.concatenate(outputs, axis=-2)
