"""helpers.transfer: the pretrained body is copied whole and checked, padding never
changes a prediction, fine-tuning leaves the language model's file alone, and bad
inputs raise clear errors. Tiny models: seconds."""
import numpy as np
import pytest
import keras
from keras import ops

from helpers.generation import GPTRecipe, gpt_model, load_gpt, save_gpt
from helpers.tokens import train_bpe
from helpers.transfer import (
    FineTuneRecipe,
    RealTokens,
    attention_maps,
    body_layers,
    copy_body,
    fine_tune,
    review_ids,
    sentiment_gpt,
    weight_change,
)

RECIPE = GPTRecipe(vocab_size=300, context=32, d_model=16, num_heads=2, num_layers=2, d_ff=32)
TUNE = FineTuneRecipe(length=16, epochs=1, batch_size=4, head_steps=2)
IDS = np.array([[0, 5, 6, 7, 0, 0], [0, 9, 0, 0, 0, 0], [0, 4, 4, 4, 4, 8]], dtype="int32")


def numpy(x):
    return ops.convert_to_numpy(x)


def pair(seed=0):
    keras.utils.set_random_seed(seed)
    return gpt_model(RECIPE), sentiment_gpt(RECIPE)


def test_copy_body_fills_every_body_weight_and_leaves_none_at_initialisation():
    language_model, classifier = pair()
    before = [w.numpy().copy() for layer in body_layers(classifier) for w in layer.weights]
    copied = copy_body(classifier, language_model)
    mine = [w for layer in body_layers(classifier) for w in layer.weights]
    theirs = [w for layer in body_layers(language_model) for w in layer.weights]
    assert copied == len(mine) == len(theirs) == len(language_model.weights) - 2   # all but the logits layer
    for m, t, b in zip(mine, theirs, before):
        assert m.name == t.name and np.array_equal(m.numpy(), t.numpy())
        if b.std() > 0:   # LayerNorm's ones and zeros start equal anyway
            assert not np.array_equal(m.numpy(), b)


def test_the_classifier_reads_the_language_models_features():
    language_model, classifier = pair()
    copy_body(classifier, language_model)
    assert weight_change(language_model, classifier) == {name: 0.0 for name in
                                                         ("embedding", "block_0", "block_1", "final_norm")}
    assert np.allclose(attention_maps(classifier, IDS[0]), attention_maps(language_model, IDS[0]))


def test_a_language_model_of_another_vocabulary_is_refused():
    keras.utils.set_random_seed(0)
    other = gpt_model(RECIPE.__class__(**{**RECIPE.__dict__, "vocab_size": 400}))
    with pytest.raises(ValueError, match=r"embedding/.* has shape \(300, 16\) in the classifier, \(400, 16\) "
                                         r"in the language model \(a checkpoint of another vocabulary"):
        copy_body(sentiment_gpt(RECIPE), other)


def test_a_model_that_is_not_a_language_model_is_refused():
    with pytest.raises(ValueError, match="model must be a model from gpt_model"):
        copy_body(sentiment_gpt(RECIPE), sentiment_gpt(RECIPE))


@pytest.mark.parametrize("extra", [1, 10, 26])
def test_extra_padding_never_changes_a_prediction(extra):
    _, classifier = pair()
    longer = np.concatenate([IDS, np.zeros((3, extra), dtype="int32")], axis=1)
    assert np.allclose(numpy(classifier(IDS)), numpy(classifier(longer)), atol=1e-6)


def test_real_tokens_run_from_the_leading_eot_to_the_last_token():
    mask = numpy(RealTokens()(IDS))
    assert mask.tolist() == [[True] * 4 + [False] * 2, [True] * 2 + [False] * 4, [True] * 6]


def test_review_ids_start_with_eot_keep_the_first_tokens_and_pad_with_eot():
    tokenizer = train_bpe(["a good film, a good plot", "a bad film"] * 20, vocab_size=300)
    ids = review_ids(tokenizer, ["a good film<br />a bad plot", "a bad film"], 6)
    assert ids.shape == (2, 6) and ids.dtype == np.int32
    first = tokenizer.encode("a good film\na bad plot").ids
    assert ids[0].tolist() == [0, *first[:5]]
    short = tokenizer.encode("a bad film").ids
    assert ids[1].tolist() == [0, *short, *[0] * (5 - len(short))]


def test_fine_tuning_trains_the_body_and_never_touches_the_language_models_file(tmp_path):
    language_model, classifier = pair()
    path, record_path, snapshot_path = save_gpt(tmp_path / "lm.keras", language_model,
                                                {"snapshots": {}, "log": []}, RECIPE)
    files = {p: p.read_bytes() for p in (path, record_path, snapshot_path)}
    loaded, _ = load_gpt(path)
    copy_body(classifier, loaded)
    rng = np.random.default_rng(0)
    ids = np.zeros((16, 12), dtype="int32")
    ids[:, 1:] = rng.integers(1, 300, (16, 11))
    labels = (ids[:, 1] > 150).astype(int)
    trained = fine_tune(classifier, ids, labels, TUNE, verbose=0)
    assert len(trained.history.history["loss"]) == TUNE.epochs
    assert all(change > 0 for change in weight_change(loaded, classifier).values())
    assert {p: p.read_bytes() for p in files} == files


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 2]), r"labels must be 0 or 1, one per review \(3,\)"),
    (np.array([0, 1]), r"labels must be 0 or 1, one per review \(3,\); got shape \(2,\)"),
])
def test_labels_other_than_0_and_1_are_refused(labels, message):
    with pytest.raises(ValueError, match=message):
        fine_tune(sentiment_gpt(RECIPE), IDS, labels, TUNE, verbose=0)


def test_an_empty_review_list_is_refused():
    tokenizer = train_bpe(["a good film"] * 10, vocab_size=300)
    with pytest.raises(ValueError, match="texts must be a non-empty list of reviews"):
        review_ids(tokenizer, [], 16)


def test_fine_tune_recipe_names_an_unknown_field():
    with pytest.raises(ValueError, match=r"\['epoch'\] are not fields of FineTuneRecipe"):
        TUNE.replace(epoch=3)
