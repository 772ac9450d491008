"""Linear attention (Katharopoulos et al., 2020): a kernel instead of the softmax, cost linear in n.

With a positive feature map phi(x) = elu(x) + 1 in place of exp(q . k):

    out_i = phi(q_i)^T (sum_j phi(k_j) v_j^T) / phi(q_i)^T (sum_j phi(k_j))

The sums over keys are computed once, (d, d_v) and (d,), so the cost is
O(n d d_v) instead of O(n^2 d), and no (n, n) matrix exists. Causal: the
sums run over j <= i only, as running sums S_i = S_{i-1} + phi(k_i) v_i^T.
`linear_attention_weights` gives the same thing in quadratic form, the (n, n)
weights phi(q_i) . phi(k_j) normalised per row, to check it and to look at it.
"""
import numpy as np

from helpers.attention import _as_float_array

__all__ = ["feature_map", "linear_attention", "linear_attention_weights"]


def feature_map(x):
    """phi(x) = elu(x) + 1: x + 1 for x > 0, e^x otherwise; always > 0."""
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def _checked(q, k, v):
    q, k, v = (_as_float_array(name, x, min_rank=2) for name, x in (("q", q), ("k", k), ("v", v)))
    if k.shape[-1] != q.shape[-1] or v.shape[-2] != k.shape[-2]:
        raise ValueError(f"q (..., n_q, d), k (..., n_k, d) and v (..., n_k, d_v) must agree; got q {q.shape}, "
                         f"k {k.shape}, v {v.shape}")
    return q, k, v


def linear_attention(q, k, v, causal=False):
    """phi(q) (phi(k)^T v) / phi(q) (phi(k)^T 1): q (..., n_q, d), k (..., n_k, d), v (..., n_k, d_v).

    causal: query i sees keys j <= i only (n_q = n_k), by running sums.
    Returns the output (..., n_q, d_v).
    """
    q, k, v = _checked(q, k, v)
    fq, fk = feature_map(q), feature_map(k)
    if not causal:
        kv = np.swapaxes(fk, -1, -2) @ v                          # (..., d, d_v)
        z = fk.sum(-2)                                            # (..., d)
        return (fq @ kv) / (fq @ z[..., None])
    if q.shape[-2] != k.shape[-2]:
        raise ValueError(f"causal attention needs as many queries as keys; got q {q.shape}, k {k.shape}")
    s = np.cumsum(fk[..., :, :, None] * v[..., :, None, :], axis=-3)   # S_i: (..., n, d, d_v)
    z = np.cumsum(fk, axis=-2)                                          # (..., n, d)
    numerator = np.einsum("...nd,...nde->...ne", fq, s)
    return numerator / np.einsum("...nd,...nd->...n", fq, z)[..., None]


def linear_attention_weights(q, k, causal=False):
    """The (..., n_q, n_k) weights linear attention uses implicitly: phi(q_i).phi(k_j), rows summing to 1."""
    q, k, _ = _checked(q, k, k)
    scores = feature_map(q) @ np.swapaxes(feature_map(k), -1, -2)
    if causal:
        scores = np.tril(scores)
    return scores / scores.sum(-1, keepdims=True)
