"""The classifier recipe is one object the model is built from (nothing can be
left out), `train_classifier` trains it reproducibly, and linear-attention heads
equal the NumPy formula of notebook 12, honour padding and refuse what they
cannot do."""
import dataclasses
import inspect

import numpy as np
import pytest
import keras
from keras import ops

from helpers.classifier import (
    IMDB_RECIPE,
    ClassifierRecipe,
    attention_maps,
    classifier_from_recipe,
    load_classifier,
    load_or_train_classifier,
    recipe_differences,
    save_classifier,
    train_classifier,
    transformer_classifier,
)
from helpers.data import make_imdb_vectorizer
from helpers.layers import MultiHeadAttention, TransformerEncoderBlock
from helpers.linear_attention import linear_attention, linear_attention_weights

TINY = IMDB_RECIPE.replace(vocab_size=30, seq_len=16, d_model=8, num_heads=2, d_ff=16, epochs=2,
                           batch_size=4)
IDS = np.array([
    [5, 9, 3, 7, 2, 0, 0, 0],
    [4, 4, 8, 1, 6, 11, 12, 3],
    [7, 0, 0, 0, 0, 0, 0, 0],
], dtype="int32")


def numpy(x):
    return ops.convert_to_numpy(x)


# The recipe


def test_every_argument_of_the_classifier_is_a_field_of_the_recipe():
    arguments = set(inspect.signature(transformer_classifier).parameters)
    assert arguments <= {field.name for field in dataclasses.fields(ClassifierRecipe)}


@pytest.mark.parametrize("changes", [{}, {"positions": "learned"}, {"attention_kind": "linear", "num_layers": 3},
                                     {"norm_first": True, "pooling": "max", "token_dropout": 0.0}])
def test_the_model_built_from_a_recipe_is_the_recipe(changes):
    recipe = TINY.replace(**changes)
    model = classifier_from_recipe(recipe)
    blocks = [layer for layer in model.layers if isinstance(layer, TransformerEncoderBlock)]
    assert model.get_layer("embedding").kind == recipe.positions
    assert model.get_layer("embedding").max_length == recipe.seq_len
    assert model.get_layer("pooling").pooling == recipe.pooling
    assert model.get_layer("token_dropout").rate == recipe.token_dropout
    assert len(blocks) == recipe.num_layers
    for block in blocks:
        assert (block.d_model, block.num_heads, block.d_ff, block.dropout, block.norm_first) == (
            recipe.d_model, recipe.num_heads, recipe.d_ff, recipe.dropout, recipe.norm_first)
        assert block.attention.kind == recipe.attention_kind


def test_the_imdb_recipe_reads_sinusoidal_positions_so_the_embedding_holds_token_vectors_only():
    model = classifier_from_recipe(IMDB_RECIPE)
    assert model.get_layer("embedding").count_params() == IMDB_RECIPE.vocab_size * IMDB_RECIPE.d_model


def test_replace_names_an_unknown_field():
    with pytest.raises(ValueError, match=r"\['positons'\] are not fields of ClassifierRecipe"):
        IMDB_RECIPE.replace(positons="learned")


def test_a_recipe_is_required_not_a_dict():
    with pytest.raises(TypeError, match="recipe must be a ClassifierRecipe.*got dict"):
        classifier_from_recipe({"vocab_size": 30})


def test_recipes_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        IMDB_RECIPE.seq_len = 100


# Training from the recipe


def _reviews(seed=0, count=24):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, TINY.vocab_size, (count, 12)).astype("int32")
    ids[::3, 6:] = 0
    return ids, (ids[:, 0] > TINY.vocab_size // 2).astype("int32")


def test_train_classifier_trains_every_layer_for_the_recipes_epochs_reproducibly_by_seed():
    ids, labels = _reviews()
    keras.utils.set_random_seed(3)
    untrained = classifier_from_recipe(TINY)
    first = train_classifier(TINY, ids, labels, seed=3, verbose=0)
    again = train_classifier(TINY, ids, labels, seed=3, verbose=0)
    other = train_classifier(TINY, ids, labels, seed=4, verbose=0)
    assert len(first.history.history["loss"]) == TINY.epochs
    assert first.seconds > 0
    assert np.allclose(numpy(first.model(ids)), numpy(again.model(ids)), atol=1e-6)
    assert not np.allclose(numpy(first.model(ids)), numpy(other.model(ids)), atol=1e-4)
    for name in ("embedding", "block_0", "block_1", "p_positive"):
        before, after = untrained.get_layer(name).get_weights(), first.model.get_layer(name).get_weights()
        assert any(not np.allclose(b, a) for b, a in zip(before, after)), name


# Linear-attention heads


def _heads(kind, q_len=5, k_len=7, seed=0):
    layer = MultiHeadAttention(num_heads=2, key_dim=3, kind=kind)
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(2, q_len, 6)).astype("float32")
    value = rng.normal(size=(2, k_len, 6)).astype("float32")
    layer(query, value)
    return layer, query, value


def _projected(layer, x, dense):
    """(batch, n, d) -> (batch, heads, n, key_dim) through one of the layer's projections."""
    return numpy(layer._split_heads(dense(x))).astype("float64")


def test_linear_heads_equal_the_numpy_formula_of_notebook_12():
    layer, query, value = _heads("linear")
    out, weights = layer(query, value, return_attention_scores=True)
    q, k, v = (_projected(layer, x, dense) for x, dense in
               ((query, layer.w_q), (value, layer.w_k), (value, layer.w_v)))
    heads = linear_attention(q, k, v)
    expected = numpy(layer.w_o(layer._concatenate_heads(heads.astype("float32"))))
    assert np.allclose(numpy(out), expected, atol=1e-5)
    assert np.allclose(numpy(weights), linear_attention_weights(q, k), atol=1e-5)


def test_linear_heads_hide_masked_keys_as_if_they_were_absent():
    layer, query, value = _heads("linear")
    keep = np.array([[True] * 4 + [False] * 3, [True] * 7])
    out = numpy(layer(query, value, attention_mask=keep[:, None, :]))
    alone = numpy(layer(query[:1], value[:1, :4]))
    assert np.allclose(out[0], alone[0], atol=1e-5)
    assert np.allclose(out[1], numpy(layer(query[1:], value[1:]))[0], atol=1e-5)


def test_linear_heads_give_zeros_not_nan_when_every_key_is_hidden():
    layer, query, value = _heads("linear")
    none = np.zeros((2, 1, 7), dtype=bool)
    out, weights = layer(query, value, attention_mask=none, return_attention_scores=True)
    heads = numpy(out) - numpy(layer.w_o(ops.zeros((2, 5, 6))))   # the output projection's bias only
    assert np.all(np.isfinite(numpy(out))) and np.allclose(heads, 0.0)
    assert np.allclose(numpy(weights), 0.0)


@pytest.mark.parametrize("call", [
    lambda layer, q, v: layer(q, q, use_causal_mask=True),
    lambda layer, q, v: layer(q, v, attention_mask=np.ones((2, 5, 7), dtype=bool)),
])
def test_linear_heads_refuse_a_query_by_key_mask(call):
    layer, query, value = _heads("linear")
    with pytest.raises(ValueError, match="linear attention can hide keys only"):
        call(layer, query, value)


def test_unknown_attention_kinds_are_refused():
    with pytest.raises(ValueError, match=r"kind must be one of \('softmax', 'linear'\); got 'performer'"):
        MultiHeadAttention(2, 3, kind="performer")
    with pytest.raises(ValueError, match="attention_kind must be one of"):
        TransformerEncoderBlock(8, 2, 16, attention_kind="flash")


def test_a_linear_block_refuses_an_attention_mask():
    block = TransformerEncoderBlock(8, 2, 16, attention_kind="linear")
    x = np.zeros((1, 4, 8), dtype="float32")
    with pytest.raises(ValueError, match="attention_mask is not accepted by a block with attention_kind='linear'"):
        block(x, attention_mask=np.ones((1, 4, 4), dtype=bool))


def test_a_linear_classifier_ignores_padding_and_its_weights_are_rows_over_real_keys():
    keras.utils.set_random_seed(0)
    model = classifier_from_recipe(TINY.replace(attention_kind="linear"))
    longer = np.concatenate([IDS, np.zeros((3, 8), dtype="int32")], axis=1)
    assert np.allclose(numpy(model(IDS)), numpy(model(longer)), atol=1e-6)
    weights = attention_maps(model, IDS)
    real = IDS != 0
    assert np.all(weights[np.broadcast_to(~real[:, None, None, None, :], weights.shape)] == 0.0)
    assert np.allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_a_saved_linear_classifier_loads_with_linear_heads(tmp_path):
    keras.utils.set_random_seed(0)
    model = classifier_from_recipe(TINY.replace(attention_kind="linear"))
    vectorizer = make_imdb_vectorizer(["a good film", "a bad film"], vocab_size=TINY.vocab_size,
                                      seq_len=TINY.seq_len)
    save_classifier(model, vectorizer, tmp_path / "linear.keras")
    loaded, _ = load_classifier(tmp_path / "linear.keras")
    assert loaded.get_layer("block_0").attention.kind == "linear"
    assert np.allclose(numpy(model(IDS)), numpy(loaded(IDS)), atol=1e-6)


# Cached models are checked against the recipe

TEXTS = [f"{'a good fine film' if i % 2 else 'a bad dull film'} number {i}" for i in range(16)]
LABELS = np.arange(16) % 2


def test_a_model_is_its_recipe_and_differences_are_named():
    model = classifier_from_recipe(TINY)
    assert recipe_differences(model, TINY) == {}
    assert recipe_differences(model, TINY.replace(positions="learned", num_layers=3)) == {
        "positions": ("learned", "sinusoidal"), "num_layers": (3, 2)}


def test_load_or_train_trains_once_then_loads_the_same_model(tmp_path):
    recipe = TINY.replace(epochs=1)
    model, vectorizer, seconds = load_or_train_classifier(tmp_path / "c.keras", recipe, TEXTS, LABELS, verbose=0)
    again, _, loaded_seconds = load_or_train_classifier(tmp_path / "c.keras", recipe, [], [], verbose=0)
    assert seconds > 0 and loaded_seconds is None
    ids = ops.convert_to_numpy(vectorizer(TEXTS[:4]))
    assert np.allclose(numpy(model(ids)), numpy(again(ids)), atol=1e-6)


def test_a_cached_model_of_another_recipe_is_refused(tmp_path):
    recipe = TINY.replace(epochs=1)
    load_or_train_classifier(tmp_path / "c.keras", recipe, TEXTS, LABELS, verbose=0)
    with pytest.raises(ValueError, match=r"c.keras is not this recipe's \(attention_kind 'linear' in the recipe, "
                                         r"'softmax' in the file\); delete c.keras"):
        load_or_train_classifier(tmp_path / "c.keras", recipe.replace(attention_kind="linear"), TEXTS, LABELS)


def test_load_or_train_needs_training_reviews(tmp_path):
    with pytest.raises(ValueError, match="texts must hold at least one training review"):
        load_or_train_classifier(tmp_path / "c.keras", TINY, [], [])


def test_an_unmasked_classifier_with_the_same_weights_changes_its_answer_with_padding():
    masked = classifier_from_recipe(TINY)
    unmasked = classifier_from_recipe(TINY.replace(masked=False))
    unmasked.set_weights(masked.get_weights())                     # the same weights, no mask
    assert not unmasked.get_layer("embedding").mask_zero and masked.get_layer("embedding").mask_zero
    ids = np.random.default_rng(0).integers(2, TINY.vocab_size, size=(3, 6)).astype("int32")
    padded = np.concatenate([ids, np.zeros((3, 10), "int32")], axis=1)
    run = lambda model, x: keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(run(unmasked, ids), run(masked, ids), atol=1e-6)   # no padding: the same
    np.testing.assert_allclose(run(masked, padded), run(masked, ids), atol=1e-6)
    assert np.abs(run(unmasked, padded) - run(unmasked, ids)).max() > 1e-3
    assert recipe_differences(unmasked, TINY) == {"masked": (True, False)}
