"""Blocked (online-softmax) and linear attention equal their quadratic forms; bad inputs are refused."""
import numpy as np
import pytest

from helpers.blocked_attention import blocked_attention, blocked_attention_ops, naive_attention
from helpers.linear_attention import linear_attention, linear_attention_weights

RNG = np.random.default_rng(0)


def qkv(*shape, d=8, d_v=5, n_k=None, dtype="float64"):
    *batch, n = shape
    n_k = n if n_k is None else n_k
    return (RNG.normal(size=(*batch, n, d)).astype(dtype) * 2, RNG.normal(size=(*batch, n_k, d)).astype(dtype) * 2,
            RNG.normal(size=(*batch, n_k, d_v)).astype(dtype))


@pytest.mark.parametrize("block_size", [1, 4, 7, 16, 64])
@pytest.mark.parametrize("causal", [False, True])
def test_blocked_equals_naive_with_batch_and_head_axes(block_size, causal):
    q, k, v = qkv(2, 3, 16)
    np.testing.assert_allclose(blocked_attention(q, k, v, block_size, causal=causal),
                               naive_attention(q, k, v, causal=causal), atol=1e-12)


def test_blocked_equals_naive_for_more_keys_than_queries_and_float32():
    q, k, v = qkv(5, n_k=23, dtype="float32")
    out = blocked_attention(q, k, v, block_size=6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, naive_attention(q, k, v), atol=1e-5)


def test_causal_tiles_in_the_future_are_skipped_and_counted():
    q, k, v = qkv(32)
    _, counts = blocked_attention(q, k, v, block_size=8, causal=True, return_counts=True)
    assert counts == {"computed": 10, "total": 16}          # 4 + 3 + 2 + 1 of the 4 x 4 tiles: 1 + 2 + 3 + 4
    _, counts = blocked_attention(q, k, v, block_size=8, return_counts=True)
    assert counts == {"computed": 16, "total": 16}


def test_fully_masked_rows_give_zeros_not_nan():
    q, k, v = qkv(2, 6)
    key_mask = np.array([[True, True, False, False, True, False], [False] * 6])
    out = blocked_attention(q, k, v, block_size=4, key_mask=key_mask)
    assert np.isfinite(out).all() and np.all(out[1] == 0)
    want = naive_attention(q[:1, :, :], k[:1, key_mask[0]], v[:1, key_mask[0]])
    np.testing.assert_allclose(out[:1], want, atol=1e-12)


def test_the_keras_ops_version_equals_naive():
    q, k, v = qkv(2, 20, dtype="float32")
    for causal in (False, True):
        got = np.asarray(blocked_attention_ops(q, k, v, block_size=6, causal=causal))
        np.testing.assert_allclose(got, naive_attention(q, k, v, causal=causal), atol=1e-5)


def test_bad_inputs_raise_clear_errors():
    q, k, v = qkv(8)
    with pytest.raises(ValueError, match="block_size must be a positive int"):
        blocked_attention(q, k, v, block_size=0)
    with pytest.raises(ValueError, match="block_size must be a positive int"):
        blocked_attention_ops(q, k, v, block_size=2.5)
    with pytest.raises(ValueError, match=r"must agree; got q \(8, 8\), k \(8, 8\), v \(7, 5\)"):
        blocked_attention(q, k, v[:7])
    with pytest.raises(ValueError, match="causal attention needs as many queries as keys"):
        blocked_attention(q, k[:5], v[:5], causal=True)
    with pytest.raises(ValueError, match="NaN or infinite"):
        blocked_attention(np.full_like(q, np.nan), k, v)
    with pytest.raises(ValueError, match="key_mask must be boolean"):
        blocked_attention(q, k, v, key_mask=np.ones(7, bool))
    with pytest.raises(ValueError, match="must agree"):
        linear_attention(q, k[:, :3], v)


def test_linear_attention_equals_its_quadratic_form_causal_or_not():
    q, k, v = qkv(2, 12)
    for causal in (False, True):
        weights = linear_attention_weights(q, k, causal=causal)
        np.testing.assert_allclose(weights.sum(-1), 1.0)
        np.testing.assert_allclose(linear_attention(q, k, v, causal=causal), weights @ v, atol=1e-10)
    assert linear_attention(q, k, v).shape == (2, 12, 5)
    assert np.all(np.triu(linear_attention_weights(q, k, causal=True)[0], 1) == 0)
