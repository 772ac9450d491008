"""helpers.attention against independent references: loops and Keras."""
import numpy as np
import pytest

from helpers.attention import attention_scores, scaled_dot_product_attention, softmax

RNG = np.random.default_rng(0)


def loop_attention(q, k, v, mask=None):
    """Plain-Python reference for one (n_q, d_k) query block."""
    n_q, d_k = q.shape
    n_k = k.shape[0]
    weights = np.zeros((n_q, n_k))
    for i in range(n_q):
        allowed = [j for j in range(n_k) if mask is None or mask[i][j]]
        scores = {j: sum(q[i, c] * k[j, c] for c in range(d_k)) / d_k ** 0.5 for j in allowed}
        if scores:
            top = max(scores.values())
            total = sum(np.exp(s - top) for s in scores.values())
            for j, s in scores.items():
                weights[i, j] = np.exp(s - top) / total
    return weights @ v, weights


def test_softmax_rows_sum_to_one_and_match_definition():
    x = RNG.normal(size=(4, 7))
    got = softmax(x)
    assert np.allclose(got.sum(axis=-1), 1.0)
    assert np.allclose(got, np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True))


def test_softmax_is_stable_for_large_inputs():
    got = softmax(np.array([1000.0, 1001.0, 1002.0]))
    assert np.all(np.isfinite(got))
    assert np.allclose(got, softmax(np.array([0.0, 1.0, 2.0])))


def test_softmax_along_another_axis():
    x = RNG.normal(size=(3, 5))
    assert np.allclose(softmax(x, axis=0).sum(axis=0), 1.0)


def test_attention_equals_loop_reference():
    q, k, v = RNG.normal(size=(5, 4)), RNG.normal(size=(6, 4)), RNG.normal(size=(6, 3))
    output, weights = scaled_dot_product_attention(q, k, v)
    want_output, want_weights = loop_attention(q, k, v)
    assert np.allclose(weights, want_weights)
    assert np.allclose(output, want_output)


def test_attention_with_mask_equals_loop_reference():
    q, k, v = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
    mask = RNG.random((5, 5)) > 0.4
    output, weights = scaled_dot_product_attention(q, k, v, attention_mask=mask)
    want_output, want_weights = loop_attention(q, k, v, mask)
    assert np.allclose(weights, want_weights)
    assert np.allclose(output, want_output)


def test_batch_dimensions_match_one_call_per_example():
    q, k, v = RNG.normal(size=(2, 3, 5, 4)), RNG.normal(size=(2, 3, 6, 4)), RNG.normal(size=(2, 3, 6, 2))
    output, weights = scaled_dot_product_attention(q, k, v)
    assert output.shape == (2, 3, 5, 2) and weights.shape == (2, 3, 5, 6)
    for b in range(2):
        for h in range(3):
            want_output, want_weights = loop_attention(q[b, h], k[b, h], v[b, h])
            assert np.allclose(weights[b, h], want_weights)
            assert np.allclose(output[b, h], want_output)


def test_agrees_with_keras_attention_layer_scaled():
    keras = pytest.importorskip("keras")
    q, k, v = RNG.normal(size=(2, 5, 8)), RNG.normal(size=(2, 6, 8)), RNG.normal(size=(2, 6, 3))
    # keras.layers.Attention(score_mode="dot") computes softmax(scale * q k^T) v.
    layer = keras.layers.Attention(use_scale=False)
    keras_output, keras_weights = layer([q / np.sqrt(8), v, k], return_attention_scores=True)
    output, weights = scaled_dot_product_attention(q, k, v)
    assert np.allclose(np.asarray(keras_weights), weights, atol=1e-5)
    assert np.allclose(np.asarray(keras_output), output, atol=1e-5)


def test_fully_masked_row_gets_zero_weights_not_nan():
    q, k, v = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4)), RNG.normal(size=(3, 2))
    mask = np.array([[True, True, False], [False, False, False], [True, True, True]])
    output, weights = scaled_dot_product_attention(q, k, v, attention_mask=mask)
    assert np.all(np.isfinite(weights)) and np.all(np.isfinite(output))
    assert np.array_equal(weights[1], np.zeros(3))
    assert np.array_equal(output[1], np.zeros(2))
    assert np.allclose(weights[[0, 2]].sum(axis=-1), 1.0)
    assert weights[0, 2] == 0.0


def test_scores_are_scaled_by_sqrt_dk():
    q, k = RNG.normal(size=(2, 16)), RNG.normal(size=(3, 16))
    assert np.allclose(attention_scores(q, k), q @ k.T / 4.0)


@pytest.mark.parametrize("args, match", [
    ((np.ones(4), np.ones((3, 4)), np.ones((3, 2))), r"q must have rank >= 2.*got shape \(4,\)"),
    ((np.ones((2, 4)), np.ones((3, 5)), np.ones((3, 2))), r"k must have the same last dimension d_k.*\(\.\.\., n_k, 4\).*\(3, 5\)"),
    ((np.ones((2, 4)), np.ones((3, 4)), np.ones((5, 2))), r"v must have one row per key.*\(\.\.\., 3, d_v\).*\(5, 2\)"),
    ((np.ones((2, 4)), np.ones((3, 4)), np.ones(3)), r"v must have rank >= 2"),
    ((np.ones((2, 2, 4)), np.ones((3, 3, 4)), np.ones((3, 3, 2))), r"q and k must have broadcastable batch dimensions"),
    ((np.full((2, 4), np.nan), np.ones((3, 4)), np.ones((3, 2))), r"q of shape \(2, 4\) holds 8 NaN or infinite"),
    ((np.ones((2, 4)), np.full((3, 4), np.inf), np.ones((3, 2))), r"k of shape \(3, 4\) holds 12 NaN or infinite"),
    ((np.ones((2, 4)), np.ones((0, 4)), np.ones((0, 2))), r"at least one feature and one key"),
])
def test_bad_inputs_raise_clear_value_error(args, match):
    with pytest.raises(ValueError, match=match):
        scaled_dot_product_attention(*args)


def test_mask_that_does_not_broadcast_is_named():
    with pytest.raises(ValueError, match=r"attention_mask must broadcast to \(\.\.\., n_q, n_k\) = \(2, 3\); got shape \(2, 2\)"):
        scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2)), attention_mask=np.ones((2, 2), bool))


def test_non_boolean_mask_is_a_type_error():
    with pytest.raises(TypeError, match="attention_mask must be boolean"):
        scaled_dot_product_attention(np.ones((2, 4)), np.ones((3, 4)), np.ones((3, 2)), attention_mask=np.ones((2, 3)))


def test_rank_2_attention_mask_is_query_by_key_when_batch_equals_n():
    n = 4
    q, k, v = RNG.normal(size=(n, n, 3)), RNG.normal(size=(n, n, 3)), RNG.normal(size=(n, n, 2))
    causal = [[j <= i for j in range(n)] for i in range(n)]
    output, weights = scaled_dot_product_attention(q, k, v, attention_mask=np.array(causal))
    for b in range(n):
        want_output, want_weights = loop_attention(q[b], k[b], v[b], causal)
        assert np.allclose(weights[b], want_weights)
        assert np.allclose(output[b], want_output)


def test_attention_takes_no_mask_keyword_only_attention_mask():
    with pytest.raises(TypeError, match="unexpected keyword argument 'mask'"):
        scaled_dot_product_attention(np.ones((2, 4)), np.ones((2, 4)), np.ones((2, 2)), mask=np.ones((2, 2), bool))


def test_text_input_is_a_type_error():
    with pytest.raises(TypeError, match="q must hold numbers"):
        scaled_dot_product_attention(np.array([["a"]]), np.ones((3, 1)), np.ones((3, 2)))
