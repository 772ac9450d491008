"""helpers.masks against plain-loop references, on NumPy and on Keras tensors."""
import numpy as np
import pytest
import keras
from keras import ops

from helpers.attention import scaled_dot_product_attention
from helpers.masks import causal_mask, combine_masks, padding_mask

IDS = np.array([[5, 3, 9, 0, 0], [2, 0, 0, 0, 0], [7, 1, 4, 6, 8]])


def loop_padding_mask(ids, pad_id=0):
    return np.array([[[token != pad_id for token in row]] for row in ids])


def loop_causal_mask(n_q, n_k):
    return np.array([[j <= i for j in range(n_k)] for i in range(n_q)])


def test_padding_mask_is_true_at_real_tokens_with_a_query_axis():
    got = padding_mask(IDS)
    assert isinstance(got, np.ndarray) and got.dtype == bool
    assert got.shape == (3, 1, 5)
    assert np.array_equal(got, loop_padding_mask(IDS))


def test_padding_mask_uses_the_given_pad_id():
    assert np.array_equal(padding_mask(IDS, pad_id=7), loop_padding_mask(IDS, pad_id=7))


def test_padding_mask_accepts_nested_lists():
    assert np.array_equal(padding_mask([[1, 0], [0, 0]]), [[[True, False]], [[False, False]]])


def test_padding_mask_of_a_tensor_is_a_tensor_with_the_same_values():
    got = padding_mask(ops.convert_to_tensor(IDS))
    assert ops.is_tensor(got)
    assert np.array_equal(ops.convert_to_numpy(got), loop_padding_mask(IDS))


def test_padding_mask_works_on_symbolic_model_inputs():
    ids = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(ids, padding_mask(ids))
    assert np.array_equal(ops.convert_to_numpy(model(IDS)), loop_padding_mask(IDS))


def test_padded_keys_get_zero_attention_weight():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 5, 2))
    _, weights = scaled_dot_product_attention(q, k, v, attention_mask=padding_mask(IDS))
    padded = np.broadcast_to(IDS[:, None, :] == 0, weights.shape)
    assert np.all(weights[padded] == 0.0)
    assert np.allclose(weights.sum(axis=-1), 1.0)


@pytest.mark.parametrize("n_q, n_k", [(1, 1), (4, 4), (3, 5), (5, 3)])
def test_causal_mask_allows_only_keys_up_to_the_query_position(n_q, n_k):
    got = causal_mask(n_q, n_k)
    assert isinstance(got, np.ndarray) and got.dtype == bool
    assert np.array_equal(got, loop_causal_mask(n_q, n_k))


def test_causal_mask_is_square_by_default_and_lower_triangular():
    assert np.array_equal(causal_mask(4), np.tril(np.ones((4, 4), dtype=bool)))


def test_causal_mask_of_a_tensor_length_is_a_tensor():
    got = causal_mask(ops.convert_to_tensor(4))
    assert ops.is_tensor(got)
    assert np.array_equal(ops.convert_to_numpy(got), loop_causal_mask(4, 4))


def test_combine_masks_is_logical_and_with_broadcasting():
    got = combine_masks(padding_mask(IDS), causal_mask(5))
    want = np.array([[[IDS[b, j] != 0 and j <= i for j in range(5)] for i in range(5)] for b in range(3)])
    assert got.shape == (3, 5, 5)
    assert np.array_equal(got, want)


def test_combine_masks_skips_none_and_returns_none_for_no_masks():
    assert np.array_equal(combine_masks(None, causal_mask(3), None), causal_mask(3))
    assert combine_masks() is None
    assert combine_masks(None, None) is None


def test_combine_masks_of_tensors_matches_numpy():
    got = combine_masks(padding_mask(ops.convert_to_tensor(IDS)), causal_mask(5))
    assert ops.is_tensor(got)
    assert np.array_equal(ops.convert_to_numpy(got), combine_masks(padding_mask(IDS), causal_mask(5)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: padding_mask(np.array([1.0, 0.0])[None]), TypeError, r"token_ids must hold integer token ids; got dtype float64"),
    (lambda: padding_mask(np.array([3, 1, 0])), ValueError, r"token_ids must have shape \(batch, n\); got shape \(3,\)"),
    (lambda: padding_mask(np.zeros((2, 3, 4), int)), ValueError, r"token_ids must have shape \(batch, n\); got shape \(2, 3, 4\)"),
    (lambda: padding_mask(IDS, pad_id=0.5), TypeError, r"pad_id must be an integer token id; got 0.5"),
    (lambda: causal_mask(0), ValueError, r"n_q must be a positive integer; got 0"),
    (lambda: causal_mask(3, -1), ValueError, r"n_k must be a positive integer; got -1"),
    (lambda: causal_mask(2.5), TypeError, r"n_q must be a positive integer; got 2.5 of type float"),
    (lambda: causal_mask(True), TypeError, r"n_q must be a positive integer; got True of type bool"),
    (lambda: combine_masks(causal_mask(3), np.ones((3, 3))), TypeError, r"masks\[1\] must be boolean .*got dtype float64"),
    (lambda: combine_masks(padding_mask(IDS), causal_mask(4)), ValueError,
     r"masks\[1\] must broadcast with the masks before it, shape \(3, 1, 5\); got shape \(4, 4\)"),
])
def test_bad_inputs_raise_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
