"""helpers.classifier against independent references: NumPy attention and
pooling, Keras's own pooling, and the model's predictions with the padding
changed. Tiny models, so the whole file runs in seconds."""
import math

import numpy as np
import pytest
import keras
from keras import ops

from helpers.attention import scaled_dot_product_attention
from helpers.classifier import (
    MaskedGlobalPooling,
    TokenDropout,
    attention_maps,
    load_classifier,
    save_classifier,
    transformer_classifier,
)
from helpers.data import make_imdb_vectorizer

VOCAB, SEQ_LEN, D, HEADS = 30, 12, 8, 2
IDS = np.array([
    [5, 9, 3, 7, 2, 0, 0, 0],
    [4, 4, 8, 1, 6, 11, 12, 3],
    [7, 0, 0, 0, 0, 0, 0, 0],
], dtype="int32")
REAL = IDS != 0


def numpy(x):
    return x.numpy() if isinstance(x, keras.Variable) else ops.convert_to_numpy(x)


def tiny(num_layers=2, pooling="mean", norm_first=False, seed=0):
    keras.utils.set_random_seed(seed)
    return transformer_classifier(VOCAB, SEQ_LEN, d_model=D, num_heads=HEADS, d_ff=16,
                                  num_layers=num_layers, dropout=0.1, pooling=pooling,
                                  norm_first=norm_first)


def predict(model, ids):
    return numpy(model(ids, training=False))


# Attention weights


@pytest.mark.parametrize("norm_first", [False, True])
def test_attention_weights_sum_to_one_over_real_keys_and_are_zero_on_padding(norm_first):
    weights = attention_maps(tiny(norm_first=norm_first), IDS)
    assert weights.shape == (3, 2, HEADS, 8, 8)
    keys = REAL[:, None, None, None, :]
    assert np.all(weights[np.broadcast_to(~keys, weights.shape)] == 0.0)
    assert np.allclose(weights.sum(axis=-1), 1.0, atol=1e-5)


def test_first_block_weights_equal_numpy_attention_on_the_embedding():
    model = tiny()
    embedding, block = model.get_layer("embedding"), model.get_layer("block_0")
    tokens = numpy(embedding.token_embedding.embeddings)[IDS] * math.sqrt(D)
    x = tokens + numpy(embedding.position_embedding.embeddings)[: IDS.shape[1]]
    mha = block.attention

    def heads(dense):
        y = x @ numpy(dense.kernel) + numpy(dense.bias)
        return y.reshape(*y.shape[:2], HEADS, D // HEADS).transpose(0, 2, 1, 3)

    mask = REAL[:, None, None, :]
    _, want = scaled_dot_product_attention(heads(mha.w_q), heads(mha.w_k), heads(mha.w_v), attention_mask=mask)
    assert np.allclose(attention_maps(model, IDS)[:, 0], want, atol=1e-5)


def test_attention_maps_read_the_model_without_dropout():
    model = tiny()
    assert np.array_equal(attention_maps(model, IDS), attention_maps(model, IDS))
    assert np.allclose(attention_maps(model, IDS, batch_size=1), attention_maps(model, IDS), atol=1e-6)


# Padding never matters


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_appending_padding_does_not_change_the_prediction(pooling):
    model = tiny(pooling=pooling)
    longer = np.concatenate([IDS, np.zeros((3, 4), dtype="int32")], axis=1)
    assert np.allclose(predict(model, longer), predict(model, IDS), atol=1e-6)


def test_padding_embeddings_do_not_change_the_prediction():
    model = tiny()
    before = predict(model, IDS)
    embedding = model.get_layer("embedding")
    rng = np.random.default_rng(1)
    tokens = numpy(embedding.token_embedding.embeddings)
    tokens[0] = rng.normal(scale=10.0, size=D)  # the padding token's vector
    embedding.token_embedding.embeddings.assign(tokens)
    positions = numpy(embedding.position_embedding.embeddings)
    # Positions 5-7 hold padding in rows 0 and 2, real tokens in row 1.
    positions[5:] = rng.normal(scale=10.0, size=positions[5:].shape)
    embedding.position_embedding.embeddings.assign(positions)
    after = predict(model, IDS)
    assert np.allclose(after[[0, 2]], before[[0, 2]], atol=1e-6)
    assert not np.allclose(after[1], before[1], atol=1e-3), "row 1 has real tokens at positions 5-7"


def test_the_keras_example_pooling_would_count_padding():
    x = np.random.default_rng(2).normal(size=(3, 8, D)).astype("float32")
    ours = numpy(MaskedGlobalPooling("mean")(x, mask=REAL))
    unmasked = x.mean(axis=1)
    assert not np.allclose(ours[0], unmasked[0])
    assert np.allclose(ours[1], unmasked[1], atol=1e-6)


# Masked pooling


def test_masked_mean_divides_by_the_number_of_real_tokens():
    x = np.random.default_rng(3).normal(size=(3, 8, D)).astype("float32")
    got = numpy(MaskedGlobalPooling("mean")(x, mask=REAL))
    want = np.stack([x[b][REAL[b]].mean(axis=0) for b in range(3)])
    assert np.allclose(got, want, atol=1e-6)
    keras_pool = numpy(keras.layers.GlobalAveragePooling1D()(x, mask=REAL))
    assert np.allclose(got, keras_pool, atol=1e-6)


def test_masked_max_takes_real_tokens_only():
    x = np.random.default_rng(4).normal(size=(3, 8, D)).astype("float32")
    x[~REAL] = 100.0  # padding that would win every max
    got = numpy(MaskedGlobalPooling("max")(x, mask=REAL))
    want = np.stack([x[b][REAL[b]].max(axis=0) for b in range(3)])
    assert np.allclose(got, want)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_an_all_padding_row_pools_to_zeros_not_nan(pooling):
    x = np.ones((2, 4, D), dtype="float32")
    mask = np.array([[True, True, False, False], [False] * 4])
    got = numpy(MaskedGlobalPooling(pooling)(x, mask=mask))
    assert np.array_equal(got[1], np.zeros(D)) and np.allclose(got[0], 1.0)
    p = predict(tiny(pooling=pooling), np.zeros((1, 8), dtype="int32"))
    assert np.all(np.isfinite(p))


def test_pooling_without_a_mask_counts_every_position():
    x = np.random.default_rng(5).normal(size=(2, 5, D)).astype("float32")
    assert np.allclose(numpy(MaskedGlobalPooling("mean")(x)), x.mean(axis=1), atol=1e-6)
    assert np.allclose(numpy(MaskedGlobalPooling("max")(x)), x.max(axis=1))


# The model


def test_classifier_outputs_one_probability_per_review():
    p = predict(tiny(num_layers=1), IDS)
    assert p.shape == (3, 1) and np.all((p > 0) & (p < 1))


def test_saved_and_loaded_classifier_predicts_the_same(tmp_path):
    texts = ["a great film, great acting", "a dull film<br />dull and long", "great fun"]
    vectorizer = make_imdb_vectorizer(texts, vocab_size=VOCAB, seq_len=SEQ_LEN)
    model = tiny()
    ids = numpy(vectorizer(texts))
    paths = save_classifier(model, vectorizer, tmp_path / "models" / "tiny.keras")
    assert [p.name for p in paths] == ["tiny.keras", "tiny.vocab.json"]
    loaded, loaded_vectorizer = load_classifier(tmp_path / "models" / "tiny.keras")
    assert loaded_vectorizer.get_vocabulary() == vectorizer.get_vocabulary()
    assert np.array_equal(numpy(loaded_vectorizer(texts)), ids)
    assert np.allclose(predict(loaded, ids), predict(model, ids), atol=1e-6)
    assert np.allclose(attention_maps(loaded, ids), attention_maps(model, ids), atol=1e-6)


# Bad inputs


@pytest.mark.parametrize("call, error, message", [
    (lambda: transformer_classifier(VOCAB, SEQ_LEN, pooling="cls"), ValueError,
     r"pooling must be one of \('mean', 'max'\); got 'cls'"),
    (lambda: transformer_classifier(VOCAB, 0), ValueError, r"seq_len must be a positive integer; got 0"),
    (lambda: transformer_classifier(1, SEQ_LEN), ValueError, r"vocab_size must be >= 2"),
    (lambda: transformer_classifier(VOCAB, SEQ_LEN, num_layers=0), ValueError,
     r"num_layers must be a positive integer"),
    (lambda: transformer_classifier(VOCAB, SEQ_LEN, dropout=1.0), ValueError,
     r"dropout must be a rate in \[0, 1\); got 1.0"),
    (lambda: transformer_classifier(VOCAB, SEQ_LEN, d_model=10, num_heads=4), ValueError,
     r"d_model must split evenly into num_heads"),
    (lambda: transformer_classifier(VOCAB, SEQ_LEN, token_dropout=-0.1), ValueError,
     r"token_dropout must be a rate in \[0, 1\); got -0.1"),
    (lambda: TokenDropout(1.0), ValueError, r"rate must be a probability in \[0, 1\); got 1.0"),
    (lambda: MaskedGlobalPooling("sum"), ValueError, r"pooling must be one of"),
    (lambda: MaskedGlobalPooling()(np.ones((2, 3, 4), "float32"), mask=np.ones((2, 5), bool)), ValueError,
     r"mask must have shape \(batch, n\) = \(2, 3\); got shape \(2, 5\)"),
    (lambda: MaskedGlobalPooling()(np.ones((2, 4), "float32")), ValueError,
     r"x must have shape \(batch, n, d\); got shape \(2, 4\)"),
    (lambda: attention_maps(tiny(1), IDS.astype("float32")), TypeError,
     r"token_ids must hold integer token ids; got dtype float32"),
    (lambda: attention_maps(tiny(1), IDS[0]), ValueError,
     r"token_ids must have shape \(batch, n\), 1 <= n <= seq_len = 12; got shape \(8,\)"),
    (lambda: attention_maps(tiny(1), np.ones((1, 13), "int32")), ValueError,
     r"1 <= n <= seq_len = 12; got shape \(1, 13\)"),
    (lambda: attention_maps(tiny(1), np.array([[3, 30]])), ValueError,
     r"token_ids must lie in \[0, vocab_size = 30\)"),
    (lambda: attention_maps(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]), IDS), ValueError,
     r"model must hold one PositionalEmbedding and at least one TransformerEncoderBlock"),
    (lambda: attention_maps("model.keras", IDS), TypeError, r"model must be a keras.Model"),
    (lambda: save_classifier(tiny(1), None, "model.h5"), ValueError, r"path must end in .keras; got 'model.h5'"),
    (lambda: load_classifier("no/such/model.keras"), FileNotFoundError, r"no/such/model.keras does not exist"),
])
def test_bad_input_raises_one_clear_error(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert type(caught.value) is error


def test_vectorizer_of_another_length_is_refused(tmp_path):
    vectorizer = make_imdb_vectorizer(["a b c"], vocab_size=VOCAB, seq_len=SEQ_LEN + 1)
    with pytest.raises(ValueError, match=r"vectorizer must produce the model's seq_len = 12 tokens; "
                                         r"its output_sequence_length is 13"):
        save_classifier(tiny(1), vectorizer, tmp_path / "x.keras")


# Token dropout


def test_token_dropout_replaces_words_by_unk_only_while_training():
    ids = np.tile(np.arange(2, 30, dtype="int32"), (50, 1))
    ids[:, -5:] = 0
    ids[:, 0] = 1
    layer = TokenDropout(0.3, seed=0)
    assert np.array_equal(numpy(layer(ids)), ids), "outside training nothing changes"
    dropped = numpy(layer(ids, training=True))
    changed = dropped != ids
    assert np.all(dropped[changed] == 1), "a dropped word becomes [UNK] (id 1)"
    assert not changed[:, -5:].any() and not changed[:, 0].any(), "padding and [UNK] stay"
    assert 0.25 < changed[:, 1:-5].mean() < 0.35


def test_token_dropout_leaves_predictions_alone_at_inference():
    keras.utils.set_random_seed(0)
    with_drop = transformer_classifier(VOCAB, SEQ_LEN, d_model=D, num_heads=HEADS, d_ff=16, token_dropout=0.5)
    keras.utils.set_random_seed(0)
    without = transformer_classifier(VOCAB, SEQ_LEN, d_model=D, num_heads=HEADS, d_ff=16)
    without.set_weights(with_drop.get_weights())
    assert np.allclose(predict(with_drop, IDS), predict(without, IDS), atol=1e-6)
