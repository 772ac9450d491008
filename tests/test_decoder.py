"""helpers.layers.TransformerDecoderBlock: causal, cross-attends only to real
source tokens, computes the paper's formulas, saves and loads, and reports bad inputs."""
import numpy as np
import pytest
import keras
from keras import ops

from helpers.attention import scaled_dot_product_attention
from helpers.layers import TransformerDecoderBlock

RNG = np.random.default_rng(0)
BATCH, N_T, N_S, D, HEADS = 2, 6, 7, 16, 4
X = RNG.normal(size=(BATCH, N_T, D)).astype("float32")
CONTEXT = RNG.normal(size=(BATCH, N_S, D)).astype("float32")
X_MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool)
CONTEXT_MASK = np.array([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0]], dtype=bool)


def numpy(x):
    return ops.convert_to_numpy(x)


def block(norm_first=False, **kwargs):
    layer = TransformerDecoderBlock(D, HEADS, 32, norm_first=norm_first, **kwargs)
    layer(X, CONTEXT)
    return layer


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("position", [0, 2, 5])
def test_a_later_target_token_leaves_earlier_outputs_unchanged(norm_first, position):
    layer = block(norm_first)
    changed = X.copy()
    changed[:, position] = RNG.normal(size=(BATCH, D))
    before = numpy(layer(X, CONTEXT, context_mask=CONTEXT_MASK))
    after = numpy(layer(changed, CONTEXT, context_mask=CONTEXT_MASK))
    np.testing.assert_allclose(after[:, :position], before[:, :position], atol=1e-5)
    assert not np.allclose(after[:, position], before[:, position])


def test_self_attention_weights_are_zero_above_the_diagonal_and_on_target_padding():
    _, self_weights, _ = block()(X, CONTEXT, x_mask=X_MASK, return_attention_scores=True)
    w = numpy(self_weights)
    assert w.shape == (BATCH, HEADS, N_T, N_T)
    assert np.all(np.triu(w, k=1) == 0)
    assert np.all(w[0, :, :, 4:] == 0)  # padding keys of the first target
    np.testing.assert_allclose(w.sum(-1), 1, atol=1e-6)


@pytest.mark.parametrize("norm_first", [False, True])
def test_cross_attention_sums_to_one_over_real_source_tokens_and_is_zero_on_padding(norm_first):
    layer = block(norm_first)
    _, _, cross = layer(X, CONTEXT, context_mask=CONTEXT_MASK, return_attention_scores=True)
    w = numpy(cross)
    assert w.shape == (BATCH, HEADS, N_T, N_S)
    for b in range(BATCH):
        real = CONTEXT_MASK[b]
        np.testing.assert_allclose(w[b][..., real].sum(-1), 1, atol=1e-6)
        assert np.all(w[b][..., ~real] == 0)


def test_changing_padded_source_tokens_changes_nothing():
    layer = block()
    noisy = CONTEXT.copy()
    noisy[~CONTEXT_MASK] = 100.0
    np.testing.assert_allclose(numpy(layer(X, noisy, context_mask=CONTEXT_MASK)),
                               numpy(layer(X, CONTEXT, context_mask=CONTEXT_MASK)), atol=1e-5)


def layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.epsilon) * numpy(norm.gamma) + numpy(norm.beta)


def mha_numpy(mha, query, value, mask):
    """Multi-head attention from its weights, head by head with the NumPy attention of notebook 01."""
    heads = []
    for h in range(mha.num_heads):
        cols = slice(h * mha.key_dim, (h + 1) * mha.key_dim)
        q, k, v = (inp @ numpy(dense.kernel)[:, cols] + numpy(dense.bias)[cols]
                   for inp, dense in ((query, mha.w_q), (value, mha.w_k), (value, mha.w_v)))
        heads.append(scaled_dot_product_attention(q, k, v, attention_mask=mask)[0])
    return np.concatenate(heads, -1) @ numpy(mha.w_o.kernel) + numpy(mha.w_o.bias)


def test_post_ln_block_equals_the_paper_formulas_in_numpy():
    layer = block()
    got = numpy(layer(X, CONTEXT, x_mask=X_MASK, context_mask=CONTEXT_MASK))
    causal = np.tril(np.ones((N_T, N_T), bool))
    first, second = layer.feed_forward.layers
    for b in range(BATCH):
        x = X[b]
        x = layer_norm(x + mha_numpy(layer.self_attention, x, x, causal & X_MASK[b][None]),
                       layer.self_attention_norm)
        x = layer_norm(x + mha_numpy(layer.cross_attention, x, CONTEXT[b], CONTEXT_MASK[b][None]),
                       layer.cross_attention_norm)
        hidden = np.maximum(0, x @ numpy(first.kernel) + numpy(first.bias))
        x = layer_norm(x + hidden @ numpy(second.kernel) + numpy(second.bias), layer.feed_forward_norm)
        np.testing.assert_allclose(got[b], x, atol=1e-4)


def test_dropout_acts_only_in_training():
    layer = block(dropout=0.5)
    np.testing.assert_allclose(numpy(layer(X, CONTEXT)), numpy(layer(X, CONTEXT)))
    assert not np.allclose(numpy(layer(X, CONTEXT, training=True)), numpy(layer(X, CONTEXT)))


def test_save_and_load_round_trip_gives_the_same_outputs(tmp_path):
    target = keras.Input((None, D))
    context = keras.Input((None, D))
    outputs = TransformerDecoderBlock(D, HEADS, 32, norm_first=True, name="decoder")(target, context)
    model = keras.Model([target, context], outputs)
    path = tmp_path / "decoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(numpy(loaded([X, CONTEXT])), numpy(model([X, CONTEXT])), atol=1e-6)
    layer = loaded.get_layer("decoder")
    assert isinstance(layer, TransformerDecoderBlock) and layer.norm_first
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("make, error, message", [
    (lambda: TransformerDecoderBlock(10, 3, 32), ValueError, "d_model must split evenly"),
    (lambda: TransformerDecoderBlock(16, 4, 32, dropout=1.0), ValueError, "dropout must be a rate"),
    (lambda: TransformerDecoderBlock(16, 0, 32), ValueError, "num_heads must be a positive integer"),
    (lambda: block()(X[..., :8], CONTEXT), ValueError, r"x must have shape \(batch, n_t, 16\)"),
    (lambda: block()(X, CONTEXT[0]), ValueError, r"context must have shape \(2, n_s, 16\); got shape \(7, 16\)"),
    (lambda: block()(X, CONTEXT, context_mask=CONTEXT_MASK[:, :3]), ValueError,
     r"context_mask must be a padding mask \(batch, n\) = \(2, 7\)"),
    (lambda: block()(X, CONTEXT, x_mask=X_MASK[:, None]), ValueError, "x_mask must be a padding mask"),
    (lambda: block()(X, CONTEXT, context_mask=CONTEXT_MASK.astype("int32")), TypeError,
     "context_mask must be boolean"),
])
def test_bad_inputs_raise_one_clear_error(make, error, message):
    with pytest.raises(error, match=message):
        make()
