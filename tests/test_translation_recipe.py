"""The translator of notebook 09 is one recipe object: `translator_from_recipe` reads every
argument of `transformer_translator` from it, `train_translator` trains it watching a random
validation sample, `load_or_train_translator` caches it with its recipe and learning curves
and refuses a cached model of another recipe. Also: the by-line split (the leak measured by
bench/translation.py), the recipe's command-line flags and the live progress callback."""
import argparse
import dataclasses
import inspect

import numpy as np
import pytest
import keras

from helpers.data import load_spa_eng, split_by_english, split_by_line
from helpers.training import EpochLog, add_recipe_flags, recipe_from_flags
from helpers.translation import (
    SPA_ENG_RECIPE,
    TranslatorRecipe,
    corpus_bleu,
    load_or_train_translator,
    load_translator,
    monitor_sample,
    save_translator,
    train_translator,
    transformer_translator,
    translator_from_recipe,
)

TINY = SPA_ENG_RECIPE.replace(source_vocab=300, target_vocab=300, max_length=10, d_model=16, num_heads=2,
                              d_ff=32, num_layers=1, epochs=2, batch_size=64, warmup_steps=5, monitor_pairs=100)


@pytest.fixture(scope="module")
def splits():
    train, val, test = split_by_english(load_spa_eng())
    return train[:600], val, test


def test_every_argument_of_the_translator_is_a_field_of_the_recipe():
    arguments = set(inspect.signature(transformer_translator).parameters)
    assert arguments <= {field.name for field in dataclasses.fields(TranslatorRecipe)}


@pytest.mark.parametrize("changes", [{}, {"num_layers": 2, "norm_first": False}, {"d_ff": 48, "num_heads": 4}])
def test_the_translator_built_from_a_recipe_is_the_recipe(changes):
    recipe = TINY.replace(**changes)
    model = translator_from_recipe(recipe)
    assert model.get_layer("source_embedding").vocab_size == recipe.source_vocab
    assert model.get_layer("target_embedding").vocab_size == recipe.target_vocab
    assert model.get_layer("logits").units == recipe.target_vocab
    assert model.get_layer("source_embedding").max_length == recipe.max_length
    for i in range(recipe.num_layers):
        for stack in ("encoder", "decoder"):
            block = model.get_layer(f"{stack}_{i}")
            assert (block.d_model, block.num_heads, block.d_ff, block.dropout, block.norm_first) == (
                recipe.d_model, recipe.num_heads, recipe.d_ff, recipe.dropout, recipe.norm_first)
    with pytest.raises(ValueError):
        model.get_layer(f"encoder_{recipe.num_layers}")
    assert any(layer.name == "encoder_norm" for layer in model.layers) == recipe.norm_first


def test_a_recipe_is_required_and_unknown_fields_are_named():
    with pytest.raises(TypeError, match="recipe must be a TranslatorRecipe"):
        translator_from_recipe({"d_model": 16})
    with pytest.raises(ValueError, match=r"\['depth'\] are not fields of TranslatorRecipe"):
        TINY.replace(depth=3)


def test_the_monitored_validation_pairs_are_a_random_sample_not_the_shortest(splits):
    val = splits[1]
    sample = monitor_sample(val, 500)
    assert len(sample) == 500 and len(set(sample)) == 500
    assert sample == monitor_sample(val, 500)                       # the same for every run
    assert sample != val[:500]
    positions = [val.index(pair) for pair in sample]
    assert positions == sorted(positions)                           # in the file's order
    words = lambda part: np.mean([len(english.split()) for english, _ in part])
    assert words(sample) > words(val[:500]) + 1                     # the file is sorted by length
    assert monitor_sample(val[:10], 500) == val[:10]


def test_train_load_or_train_caches_the_recipe_and_curves_and_refuses_another(splits, tmp_path):
    train, val, _ = splits
    checkpoint = tmp_path / "translator.keras"
    first = load_or_train_translator(checkpoint, TINY, train, val, progress=False)
    assert not first.cached and checkpoint.exists()
    assert set(first.history) >= {"loss", "masked_accuracy", "val_loss", "val_masked_accuracy"}
    assert all(len(values) == TINY.epochs for values in first.history.values())
    again = load_or_train_translator(checkpoint, TINY, [], [], progress=False)
    assert again.cached and again.seconds == first.seconds and set(again.history) == set(first.history)
    for name, values in first.history.items():
        assert again.history[name] == pytest.approx(values)
    ids = np.asarray(first.source_vectorizer(["I am tired."]))
    target = np.array([[2, 5, 6]])
    np.testing.assert_allclose(again.model({"source": ids, "target": target}),
                               first.model({"source": ids, "target": target}), atol=1e-5)
    with pytest.raises(ValueError, match=r"not this recipe's \(epochs 3 in the recipe, 2 in the file\)"):
        load_or_train_translator(checkpoint, TINY.replace(epochs=3), train, val)
    bare = tmp_path / "bare.keras"
    save_translator(bare, first.model, first.source_vectorizer, first.target_vectorizer)
    with pytest.raises(ValueError, match="saved without its recipe"):
        load_or_train_translator(bare, TINY, train, val)
    assert load_translator(bare)[0].count_params() == first.model.count_params()


def test_training_is_reproducible_by_seed(splits):
    train, val, _ = splits
    recipe = TINY.replace(epochs=1)
    a, b = (train_translator(recipe, train, val, seed=3, progress=False) for _ in range(2))
    assert a.history["loss"] == pytest.approx(b.history["loss"], rel=1e-5)
    c = train_translator(recipe, train, val, seed=4, progress=False)
    assert c.history["loss"] != pytest.approx(a.history["loss"], rel=1e-5)


def test_the_progress_callback_leaves_one_line_per_epoch(splits, capsys):
    x, y = np.random.default_rng(0).normal(size=(64, 3)), np.zeros((64, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[EpochLog(every=0)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/3"], ["epoch", "2/3"], ["epoch", "3/3"]]
    assert all(" s  loss " in line for line in lines)


def test_in_a_terminal_the_progress_line_is_rewritten_in_place_with_the_time_left(monkeypatch, capsys):
    monkeypatch.setattr(EpochLog, "_where", staticmethod(lambda: "terminal"))
    x, y = np.random.default_rng(0).normal(size=(64, 3)), np.zeros((64, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[EpochLog(every=0)])
    out = capsys.readouterr().out
    live = [part for part in out.split("\r") if part.startswith("epoch 2/2 · step 3/4")]
    assert live and "left" in live[0]
    assert out.endswith("\r" + " " * 100 + "\r")


def test_the_split_by_line_uses_every_pair_once_and_leaks_english_sentences():
    pairs = load_spa_eng()
    train, val, test = split_by_line(pairs)
    assert len(train) + len(val) + len(test) == len(pairs)
    assert sorted(train + val + test) == sorted(pairs)
    assert abs(len(test) / len(pairs) - 0.1) < 0.001
    seen = {english for english, _ in train}
    assert sum(english in seen for english, _ in test) > 0.1 * len(test)   # the leak: > 10 % of test lines
    honest_train, _, honest_test = split_by_english(pairs)
    honest_seen = {english for english, _ in honest_train}
    assert not any(english in honest_seen for english, _ in honest_test)
    with pytest.raises(ValueError, match="fractions must be non-negative numbers that sum to 1"):
        split_by_line(pairs, (0.5, 0.6))


def test_every_recipe_field_is_a_command_line_flag():
    parser = argparse.ArgumentParser()
    add_recipe_flags(parser, SPA_ENG_RECIPE, "recipe")
    recipe = recipe_from_flags(parser.parse_args(["--epochs", "5", "--norm-first", "false",
                                                  "--learning-rate", "1e-4"]), SPA_ENG_RECIPE)
    assert recipe == SPA_ENG_RECIPE.replace(epochs=5, norm_first=False, learning_rate=1e-4)
    assert recipe_from_flags(parser.parse_args([]), SPA_ENG_RECIPE) == SPA_ENG_RECIPE


def test_corpus_bleu_carries_its_sacrebleu_signature():
    score = corpus_bleu(["hola.", "adiós."], [["Hola.", "¡Hola!"], ["Adiós."]])  # 2 references, then 1
    assert {"case:lc", "tok:intl", "nrefs:var"} <= set(score.signature.split("|"))
