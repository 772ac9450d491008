"""helpers.layers against independent references: the NumPy attention of
notebook 01, keras.layers.MultiHeadAttention, plain loops and hand formulas."""
import math

import numpy as np
import pytest
import keras
from keras import ops

from helpers.attention import scaled_dot_product_attention
from helpers.layers import (
    MultiHeadAttention,
    PositionalEmbedding,
    SelfAttention,
    SinusoidalEncoding,
    TransformerEncoderBlock,
    copy_weights_from_keras,
    copy_weights_to_keras,
    sinusoidal_encoding,
)
from helpers.masks import causal_mask, combine_masks, padding_mask

RNG = np.random.default_rng(0)
BATCH, N, D = 2, 5, 8
X = RNG.normal(size=(BATCH, N, D)).astype("float32")
IDS = np.array([[4, 7, 2, 0, 0], [3, 1, 6, 5, 9]])
PADDING = padding_mask(IDS)


def numpy(x):
    """A tensor's or a Keras variable's values as a NumPy array."""
    return x.numpy() if isinstance(x, keras.Variable) else ops.convert_to_numpy(x)


def kernel(dense):
    return numpy(dense.kernel)


def layer_norm(x, norm):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.epsilon) * numpy(norm.gamma) + numpy(norm.beta)


def keras_mha_with_weights_of(ours, query, value, key=None):
    keras_mha = keras.layers.MultiHeadAttention(ours.num_heads, ours.key_dim)
    keras_mha(query, value, key)
    copy_weights_to_keras(ours, keras_mha)
    return keras_mha


# SelfAttention


@pytest.mark.parametrize("mask", [None, PADDING, combine_masks(PADDING, causal_mask(N))])
def test_self_attention_equals_numpy_reference_on_its_own_projections(mask):
    layer = SelfAttention(4)
    output, weights = layer(X, attention_mask=mask, return_attention_scores=True)
    q, k, v = (X @ kernel(w) for w in (layer.w_q, layer.w_k, layer.w_v))
    want_output, want_weights = scaled_dot_product_attention(q, k, v, attention_mask=mask)
    assert output.shape == (BATCH, N, 4) and weights.shape == (BATCH, N, N)
    assert np.allclose(numpy(weights), want_weights, atol=1e-5)
    assert np.allclose(numpy(output), want_output, atol=1e-5)


def test_self_attention_weights_sum_to_one_over_keys_not_queries():
    _, weights = SelfAttention(4)(X, return_attention_scores=True)
    weights = numpy(weights)
    assert np.allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    assert not np.allclose(weights.sum(axis=-2), 1.0, atol=1e-3)


def test_self_attention_keras_token_mask_equals_padding_attention_mask():
    layer = SelfAttention(4)
    assert np.allclose(numpy(layer(X, mask=IDS != 0)), numpy(layer(X, attention_mask=PADDING)))


def test_self_attention_use_causal_mask_equals_explicit_causal_mask():
    layer = SelfAttention(4)
    got = layer(X, use_causal_mask=True)
    assert np.allclose(numpy(got), numpy(layer(X, attention_mask=causal_mask(N))))


def reference_self_attention(layer, x, allowed):
    """softmax over the allowed keys of (x W_Q)(x W_K)^T / sqrt(units), times x W_V, in NumPy;
    allowed: boolean (batch, n_q, n_k), spelled out in full."""
    q, k, v = (x @ kernel(w) for w in (layer.w_q, layer.w_k, layer.w_v))
    scores = np.where(allowed, q @ np.swapaxes(k, -1, -2) / math.sqrt(layer.units), -np.inf)
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = exp / exp.sum(axis=-1, keepdims=True)
    return weights @ v, weights


# Batch = n: a rank-2 mask could be either kind, so the keyword alone decides.
X_SQUARE = RNG.normal(size=(N, N, D)).astype("float32")
IDS_SQUARE = np.array([[3, 1, 0, 0, 0], [2, 2, 2, 2, 2], [5, 0, 0, 0, 0], [1, 4, 4, 0, 0], [6, 6, 6, 6, 0]])


def test_rank_2_attention_mask_is_causal_when_batch_equals_n():
    layer = SelfAttention(4)
    output, weights = layer(X_SQUARE, attention_mask=causal_mask(N), return_attention_scores=True)
    lower = np.broadcast_to(np.tri(N, dtype=bool), (N, N, N))
    want_output, want_weights = reference_self_attention(layer, X_SQUARE, lower)
    assert np.all(numpy(weights)[:, ~np.tri(N, dtype=bool)] == 0.0)
    assert np.allclose(numpy(weights), want_weights, atol=1e-5)
    assert np.allclose(numpy(output), want_output, atol=1e-5)


def test_keras_token_mask_is_padding_when_batch_equals_n():
    layer = SelfAttention(4)
    output, weights = layer(X_SQUARE, mask=IDS_SQUARE != 0, return_attention_scores=True)
    real_keys = np.broadcast_to((IDS_SQUARE != 0)[:, None, :], (N, N, N))
    want_output, want_weights = reference_self_attention(layer, X_SQUARE, real_keys)
    assert np.allclose(numpy(weights), want_weights, atol=1e-5)
    assert np.allclose(numpy(output), want_output, atol=1e-5)


def test_token_mask_and_attention_mask_combine_with_and():
    layer = SelfAttention(4)
    _, weights = layer(X_SQUARE, mask=IDS_SQUARE != 0, attention_mask=causal_mask(N), return_attention_scores=True)
    both = (IDS_SQUARE != 0)[:, None, :] & np.tri(N, dtype=bool)
    _, want_weights = reference_self_attention(layer, X_SQUARE, both)
    assert np.allclose(numpy(weights), want_weights, atol=1e-5)


def test_multi_head_rank_2_attention_mask_is_causal_when_batch_equals_n():
    keras_mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    lower = np.broadcast_to(np.tri(N, dtype=bool), (N, N, N))  # spelled out: no rank-2 reading to trust
    want_output, want_weights = keras_mha(X_SQUARE, X_SQUARE, attention_mask=lower, return_attention_scores=True)
    ours = MultiHeadAttention(num_heads=2, key_dim=3)
    ours(X_SQUARE, X_SQUARE)
    copy_weights_from_keras(ours, keras_mha)
    output, weights = ours(X_SQUARE, X_SQUARE, attention_mask=causal_mask(N), return_attention_scores=True)
    assert np.allclose(numpy(weights), numpy(want_weights), atol=1e-5)
    assert np.allclose(numpy(output), numpy(want_output), atol=1e-5)


@pytest.mark.parametrize("layer", [SelfAttention(4), TransformerEncoderBlock(D, 2, 16)],
                         ids=["SelfAttention", "TransformerEncoderBlock"])
@pytest.mark.parametrize("mask", [PADDING, np.ones((BATCH, N, N), bool)], ids=["(batch, 1, n)", "(batch, n, n)"])
def test_query_by_key_mask_passed_as_mask_is_an_error_naming_attention_mask(layer, mask):
    with pytest.raises(ValueError, match=r"mask must be a padding mask \(batch, n\) = \(2, 5\).*as attention_mask="):
        layer(X, mask=mask)


def test_causal_mask_passed_as_mask_is_an_error_when_batch_differs_from_n():
    with pytest.raises(ValueError, match=r"got shape \(5, 5\)\. Pass a query x key mask, such as causal_mask\(n\)"):
        SelfAttention(4)(X, mask=causal_mask(N))


def test_self_attention_causal_output_does_not_see_the_future():
    layer = SelfAttention(4)
    changed = X.copy()
    changed[:, 3:] = RNG.normal(size=(BATCH, N - 3, D))
    before, after = numpy(layer(X, use_causal_mask=True)), numpy(layer(changed, use_causal_mask=True))
    assert np.allclose(before[:, :3], after[:, :3], atol=1e-6)
    assert not np.allclose(before[:, 3:], after[:, 3:])


# MultiHeadAttention


MHA_CASES = {
    "no mask": dict(),
    "padding mask": dict(attention_mask=PADDING),
    "causal": dict(use_causal_mask=True),
    "padding and causal": dict(attention_mask=PADDING, use_causal_mask=True),
    "full mask": dict(attention_mask=(RNG.random((BATCH, N, N)) > 0.3) | np.eye(N, dtype=bool)),
    "(n_q, n_k) mask": dict(attention_mask=causal_mask(N)),
}


@pytest.mark.parametrize("kwargs", MHA_CASES.values(), ids=MHA_CASES.keys())
def test_multi_head_attention_equals_keras_with_copied_weights(kwargs):
    keras_mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    want_output, want_weights = keras_mha(X, X, return_attention_scores=True, **kwargs)
    ours = MultiHeadAttention(num_heads=2, key_dim=3)
    ours(X, X)
    copy_weights_from_keras(ours, keras_mha)
    output, weights = ours(X, X, return_attention_scores=True, **kwargs)
    assert weights.shape == (BATCH, 2, N, N)
    assert np.allclose(numpy(weights), numpy(want_weights), atol=1e-5)
    assert np.allclose(numpy(output), numpy(want_output), atol=1e-5)


def test_multi_head_cross_attention_equals_keras():
    query = RNG.normal(size=(BATCH, 3, 6)).astype("float32")
    key = RNG.normal(size=(BATCH, N, 4)).astype("float32")
    ours = MultiHeadAttention(num_heads=3, key_dim=2)
    output, weights = ours(query, X, key, attention_mask=PADDING, return_attention_scores=True)
    keras_mha = keras_mha_with_weights_of(ours, query, X, key)
    want_output, want_weights = keras_mha(query, X, key, attention_mask=PADDING, return_attention_scores=True)
    assert output.shape == (BATCH, 3, 6) and weights.shape == (BATCH, 3, 3, N)
    assert np.allclose(numpy(weights), numpy(want_weights), atol=1e-5)
    assert np.allclose(numpy(output), numpy(want_output), atol=1e-5)


def test_multi_head_attention_with_one_head_is_self_attention_plus_output_projection():
    ours = MultiHeadAttention(num_heads=1, key_dim=4, use_bias=False)
    output = numpy(ours(X, X, attention_mask=PADDING))
    q, k, v = (X @ kernel(w) for w in (ours.w_q, ours.w_k, ours.w_v))
    heads, _ = scaled_dot_product_attention(q, k, v, attention_mask=PADDING)
    assert np.allclose(output, heads @ kernel(ours.w_o), atol=1e-5)


def test_copied_weights_have_keras_layout():
    ours = MultiHeadAttention(num_heads=2, key_dim=3)
    ours(X, X)
    keras_mha = keras_mha_with_weights_of(ours, X, X)
    assert keras_mha.query_dense.kernel.shape == (D, 2, 3)
    assert np.array_equal(numpy(keras_mha.query_dense.kernel)[:, 1, :], kernel(ours.w_q)[:, 3:])
    assert np.array_equal(numpy(keras_mha.output_dense.kernel)[1], kernel(ours.w_o)[3:])


def test_copy_weights_refuses_a_different_layout():
    ours = MultiHeadAttention(num_heads=2, key_dim=3)
    ours(X, X)
    other = keras.layers.MultiHeadAttention(num_heads=4, key_dim=3)
    with pytest.raises(ValueError, match="must be built"):
        copy_weights_from_keras(ours, other)
    other(X, X)
    with pytest.raises(ValueError, match=r"num_heads 2 expected; got 4"):
        copy_weights_from_keras(ours, other)


# Both attention layers


def fully_masked_second_query():
    mask = np.ones((BATCH, N, N), dtype=bool)
    mask[:, 1] = False
    return mask


@pytest.mark.parametrize("attend", [
    lambda mask: SelfAttention(4)(X, attention_mask=mask, return_attention_scores=True),
    lambda mask: MultiHeadAttention(2, 3)(X, X, attention_mask=mask, return_attention_scores=True),
], ids=["SelfAttention", "MultiHeadAttention"])
def test_fully_masked_query_gets_zero_weights_not_nan(attend):
    output, weights = (numpy(t) for t in attend(fully_masked_second_query()))
    assert np.all(np.isfinite(output)) and np.all(np.isfinite(weights))
    assert np.all(weights[..., 1, :] == 0.0)
    rows = np.delete(weights, 1, axis=-2)
    assert np.allclose(rows.sum(axis=-1), 1.0, atol=1e-6)


def self_attend(layer):
    return lambda x: layer(x, x)


@pytest.mark.parametrize("attend", [
    SelfAttention(4),
    self_attend(MultiHeadAttention(2, 3)),
    TransformerEncoderBlock(D, 2, 16),
], ids=["SelfAttention", "MultiHeadAttention", "TransformerEncoderBlock"])
def test_attention_without_positions_is_permutation_equivariant(attend):
    order = RNG.permutation(N)
    assert np.allclose(numpy(attend(X[:, order])), numpy(attend(X))[:, order], atol=1e-5)


# Positions


def loop_sinusoidal_encoding(length, depth):
    encoding = np.zeros((length, depth))
    for pos in range(length):
        for i in range(depth):
            angle = pos / 10000 ** ((i - i % 2) / depth)
            encoding[pos, i] = math.sin(angle) if i % 2 == 0 else math.cos(angle)
    return encoding


@pytest.mark.parametrize("length, depth", [(1, 1), (7, 8), (5, 7)])
def test_sinusoidal_encoding_equals_plain_loop(length, depth):
    got = sinusoidal_encoding(length, depth)
    assert got.shape == (length, depth) and got.dtype == np.float32
    assert np.allclose(got, loop_sinusoidal_encoding(length, depth), atol=1e-6)


def test_sinusoidal_layer_adds_the_encoding_of_the_first_n_positions():
    got = numpy(SinusoidalEncoding(max_length=10)(X))
    assert np.allclose(got, X + loop_sinusoidal_encoding(N, D), atol=1e-6)


@pytest.mark.parametrize("kind", ["learned", "sinusoidal"])
def test_positional_embedding_is_scaled_token_vector_plus_position(kind):
    layer = PositionalEmbedding(vocab_size=10, max_length=6, d_model=D, kind=kind)
    got = numpy(layer(IDS))
    tokens = numpy(layer.token_embedding.embeddings)[IDS] * math.sqrt(D)
    if kind == "learned":
        positions = numpy(layer.position_embedding.embeddings)[:N]
    else:
        positions = loop_sinusoidal_encoding(N, D)
    assert np.allclose(got, tokens + positions, atol=1e-5)


def test_positional_embedding_mask_zero_hands_the_padding_mask_on():
    embedding = PositionalEmbedding(10, 6, D, mask_zero=True)
    first, second = TransformerEncoderBlock(D, 2, 16), TransformerEncoderBlock(D, 2, 16)
    ids = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(ids, second(first(embedding(ids))))
    assert np.array_equal(numpy(embedding.compute_mask(IDS)), IDS != 0)
    want = second(first(embedding(IDS), attention_mask=PADDING), attention_mask=PADDING)
    assert np.allclose(numpy(model(IDS)), numpy(want), atol=1e-5)


# TransformerEncoderBlock


def encoder_reference(block, x, mask):
    """The block's formula in NumPy, attention by keras.layers.MultiHeadAttention."""
    keras_mha = keras_mha_with_weights_of(block.attention, x, x)
    first, second = block.feed_forward.layers

    def attention(h):
        return numpy(keras_mha(h, h, attention_mask=mask))

    def feed_forward(h):
        hidden = np.maximum(0, h @ kernel(first) + numpy(first.bias))
        return hidden @ kernel(second) + numpy(second.bias)

    if block.norm_first:
        x = x + attention(layer_norm(x, block.attention_norm))
        return x + feed_forward(layer_norm(x, block.feed_forward_norm))
    x = layer_norm(x + attention(x), block.attention_norm)
    return layer_norm(x + feed_forward(x), block.feed_forward_norm)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_block_equals_its_formula(norm_first):
    block = TransformerEncoderBlock(D, 2, 16, norm_first=norm_first)
    got = numpy(block(X, mask=IDS != 0))
    assert np.allclose(got, encoder_reference(block, X, PADDING), atol=1e-4)


def test_encoder_block_rank_2_attention_mask_is_causal_when_batch_equals_n():
    block = TransformerEncoderBlock(D, 2, 16)
    got = numpy(block(X_SQUARE, attention_mask=causal_mask(N)))
    lower = np.broadcast_to(np.tri(N, dtype=bool), (N, N, N))
    assert np.allclose(got, encoder_reference(block, X_SQUARE, lower), atol=1e-4)


def test_encoder_block_parameter_count_equals_hand_formula():
    d, d_ff = 8, 16
    block = TransformerEncoderBlock(d, num_heads=2, d_ff=d_ff)
    block.build((None, None, d))
    attention = 4 * (d * d + d)  # W_Q, W_K, W_V, W_O with biases
    feed_forward = (d * d_ff + d_ff) + (d_ff * d + d)
    layer_norms = 2 * 2 * d  # gamma and beta
    assert block.count_params() == attention + feed_forward + layer_norms


def test_pre_ln_and_post_ln_differ_with_the_same_weights():
    post, pre = TransformerEncoderBlock(D, 2, 16), TransformerEncoderBlock(D, 2, 16, norm_first=True)
    post(X)
    pre(X)
    pre.set_weights(post.get_weights())
    assert not np.allclose(numpy(post(X)), numpy(pre(X)), atol=1e-3)


def test_encoder_block_ignores_padded_tokens():
    block = TransformerEncoderBlock(D, 2, 16)
    changed = X.copy()
    changed[0, 3:] = RNG.normal(size=(N - 3, D))
    before, after = numpy(block(X, mask=IDS != 0)), numpy(block(changed, mask=IDS != 0))
    assert np.allclose(before[0, :3], after[0, :3], atol=1e-5)
    assert np.allclose(before[1], after[1])


def test_encoder_block_dropout_acts_only_in_training():
    block = TransformerEncoderBlock(D, 2, 16, dropout=0.5)
    assert np.array_equal(numpy(block(X)), numpy(block(X)))
    assert not np.allclose(numpy(block(X, training=True)), numpy(block(X)))


def test_encoder_block_returns_weights_per_head():
    _, weights = TransformerEncoderBlock(D, 2, 16)(X, mask=IDS != 0, return_attention_scores=True)
    assert weights.shape == (BATCH, 2, N, N)
    assert np.all(numpy(weights)[0, :, :, 3:] == 0.0)


def test_layers_train_on_variable_length_input_with_an_all_padding_row():
    ids = keras.Input(shape=(None,), dtype="int32")
    mask = padding_mask(ids)
    h = PositionalEmbedding(10, 6, D, kind="sinusoidal")(ids)
    h = TransformerEncoderBlock(D, 2, 16)(h, attention_mask=mask)
    h = MultiHeadAttention(2, 3)(h, h, attention_mask=mask, use_causal_mask=True)
    h = SelfAttention(4)(h, attention_mask=mask, use_causal_mask=True)
    model = keras.Model(ids, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(h)))
    model.compile(optimizer="adam", loss="mse")
    batch = np.array([[4, 7, 2, 0], [0, 0, 0, 0]])
    history = model.fit(batch, np.array([1.0, 0.0]), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# Saving and loading


def float_model(call):
    x = keras.Input(shape=(N, D))
    return keras.Model(x, call(x))


SAVE_CASES = {
    "SelfAttention": lambda: float_model(lambda x: SelfAttention(4)(x, use_causal_mask=True)),
    "MultiHeadAttention": lambda: float_model(lambda x: MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)),
    "SinusoidalEncoding": lambda: float_model(SinusoidalEncoding(10)),
    "TransformerEncoderBlock": lambda: float_model(TransformerEncoderBlock(D, 2, 16, norm_first=True)),
    "PositionalEmbedding learned": lambda: keras.Sequential(
        [keras.Input(shape=(N,), dtype="int32"), PositionalEmbedding(10, 6, D, mask_zero=True)]
    ),
    "PositionalEmbedding sinusoidal + encoder": lambda: keras.Sequential([
        keras.Input(shape=(N,), dtype="int32"),
        PositionalEmbedding(10, 6, D, kind="sinusoidal", mask_zero=True),
        TransformerEncoderBlock(D, 2, 16),
    ]),
}


@pytest.mark.parametrize("make_model", SAVE_CASES.values(), ids=SAVE_CASES.keys())
def test_save_and_load_round_trip_gives_the_same_outputs(make_model, tmp_path):
    model = make_model()
    inputs = IDS if model.inputs[0].dtype == "int32" else X
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert np.allclose(numpy(loaded(inputs)), numpy(model(inputs)), atol=1e-6)
    layer = model.layers[-1]
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


# Bad inputs


def built(layer, *inputs):
    layer(*inputs)
    return layer


BAD_INPUTS = {
    "units": (lambda: SelfAttention(0), ValueError, r"units must be a positive integer; got 0"),
    "x rank": (lambda: SelfAttention(4)(X[0]), ValueError, r"x must have shape \(batch, n, d_model\); got shape \(5, 8\)"),
    "x size": (lambda: built(SelfAttention(4), X)(X[..., :6]), ValueError, r"x must have shape \(batch, n, 8\); got shape \(2, 5, 6\)"),
    "attention_mask shape": (lambda: SelfAttention(4)(X, attention_mask=np.ones((BATCH, 4, 4), bool)), ValueError,
                             r"attention_mask must broadcast to \(batch, n_q, n_k\) = \(2, 5, 5\); got shape \(2, 4, 4\)"),
    "attention_mask dtype": (lambda: SelfAttention(4)(X, attention_mask=np.ones((BATCH, N, N), "int32")), TypeError,
                             r"attention_mask must be boolean \(True where attention is allowed\); got dtype int32"),
    "mask shape": (lambda: SelfAttention(4)(X, mask=np.ones((BATCH, 4), bool)), ValueError,
                   r"mask must be a padding mask \(batch, n\) = \(2, 5\), True at real tokens; got shape \(2, 4\)"),
    "mask dtype": (lambda: SelfAttention(4)(X, mask=np.ones((BATCH, N), "int32")), TypeError,
                   r"mask must be boolean \(True at real tokens\); got dtype int32"),
    "num_heads": (lambda: MultiHeadAttention(0, 4), ValueError, r"num_heads must be a positive integer; got 0"),
    "multi-head attention_mask shape": (lambda: MultiHeadAttention(2, 3)(X, X, attention_mask=np.ones((BATCH, N, 3), bool)), ValueError,
                             r"attention_mask must broadcast to \(batch, n_q, n_k\) = \(2, 5, 5\); got shape \(2, 5, 3\)"),
    "key length": (lambda: MultiHeadAttention(2, 3)(X, X, X[:, :4]), ValueError, r"key must have shape \(2, 5, 8\); got shape \(2, 4, 8\)"),
    "query size": (lambda: built(MultiHeadAttention(2, 3), X, X)(X[..., :6], X), ValueError,
                   r"query must have shape \(batch, n_q, 8\); got shape \(2, 5, 6\)"),
    "encoding length": (lambda: sinusoidal_encoding(0, 4), ValueError, r"length must be a positive integer; got 0"),
    "encoding too long": (lambda: SinusoidalEncoding(4)(X), ValueError,
                          r"x must have at most max_length = 4 positions, shape \(batch, n <= 4, \.\.\.\); got shape \(2, 5, 8\)"),
    "kind": (lambda: PositionalEmbedding(10, 6, D, kind="rotary"), ValueError, r'kind must be "learned" or "sinusoidal"; got \'rotary\''),
    "ids too long": (lambda: PositionalEmbedding(10, 4, D)(IDS), ValueError, r"token_ids must have at most max_length = 4 positions.*got shape \(2, 5\)"),
    "id too large": (lambda: PositionalEmbedding(9, 6, D)(IDS), ValueError, r"token_ids must lie in \[0, vocab_size = 9\); got ids from 0 to 9"),
    "id negative": (lambda: PositionalEmbedding(10, 6, D)(-IDS), ValueError, r"token_ids must lie in \[0, vocab_size = 10\); got ids from -9 to 0"),
    "ids float": (lambda: PositionalEmbedding(10, 6, D)(IDS.astype("float32")), TypeError,
                  r"token_ids must hold integer token ids; got dtype float32 .*dtype=\"int32\""),
    "ids rank": (lambda: PositionalEmbedding(10, 6, D)(IDS[0]), ValueError, r"token_ids must have shape \(batch, n\); got shape \(5,\)"),
    "heads split": (lambda: TransformerEncoderBlock(D, 3, 16), ValueError, r"d_model must split evenly into num_heads: got d_model = 8, num_heads = 3"),
    "dropout": (lambda: TransformerEncoderBlock(D, 2, 16, dropout=1.5), ValueError, r"dropout must be a rate in \[0, 1\); got 1.5"),
    "block x size": (lambda: TransformerEncoderBlock(6, 2, 16)(X), ValueError, r"x must have shape \(batch, n, 6\); got shape \(2, 5, 8\)"),
    "block mask": (lambda: TransformerEncoderBlock(D, 2, 16)(X, mask=np.ones((BATCH, 4), bool)), ValueError,
                   r"mask must be a padding mask \(batch, n\) = \(2, 5\), True at real tokens; got shape \(2, 4\)"),
}


@pytest.mark.parametrize("call, error, match", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_inputs_raise_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
