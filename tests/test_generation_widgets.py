"""Notebook 10's explorers show what they say: checked kernel-side against fresh computations."""
import numpy as np
import pytest

import helpers

helpers.start_keras_quietly()
import keras  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.generation import GPT_RECIPE, Decoder, attention_and_probs, gpt_model, next_token_probs  # noqa: E402
from helpers.generation_widgets import (generation_explorer, sampler_figure, sampler_label,  # noqa: E402
                                        sampling_explorer, shown)
from helpers.tokens import EOT_ID, train_bpe  # noqa: E402

CORPUS = ["The film was good and the acting was great.", "A bad movie, with bad actors.\nNever again."] * 30


@pytest.fixture(scope="module")
def parts():
    keras.utils.set_random_seed(0)
    tokenizer = train_bpe(CORPUS, vocab_size=GPT_RECIPE.vocab_size)
    model = gpt_model(GPT_RECIPE)
    return model, Decoder(model), tokenizer


def controls(panel):
    return {child.description.split(" ")[0]: child for child in panel.children
            if getattr(child, "description", "") and hasattr(child, "value")}


def test_tokens_are_shown_readably():
    assert shown(" the") == "·the" and shown("\n") == "⏎" and shown("<|endoftext|>") == "<EOT>"
    assert sampler_label(greedy=True) == "greedy"
    assert sampler_label(temperature=0.7, top_k=None, top_p=0.9) == "T 0.7, top-p 0.9"


def test_sampler_figure_returns_each_samplers_distribution(parts):
    model, decoder, tokenizer = parts
    logits = decoder.generate([EOT_ID, 5, 6], 1, greedy=True).logits[0]
    settings = [dict(greedy=True), dict(temperature=0.5), dict(top_k=3), dict(top_p=0.5)]
    figure = Figure(figsize=(12, 4))
    got = sampler_figure(figure, logits, tokenizer, settings)
    assert len(figure.axes) == 4 and all(ax.get_xlabel() and ax.get_title() for ax in figure.axes)
    assert got[0][np.argmax(logits)] == 1.0 and got[0].sum() == 1.0
    np.testing.assert_allclose(got[1], next_token_probs(logits, temperature=0.5))
    assert np.sum(got[2] > 0) == 3
    np.testing.assert_allclose(got[3], next_token_probs(logits, top_p=0.5))


def test_sampling_explorer_shows_the_sample_and_distribution_of_its_settings(parts):
    model, decoder, tokenizer = parts
    panel = sampling_explorer(decoder, tokenizer, "The film", new_tokens=8, stills=[{"temperature": 0.5}])
    found = controls(panel)
    found["temperature"].value, found["top_k"].value, found["seed"].value = 0.7, 20, 4
    panel.frames.wait()
    tokens, probs = panel.result
    expected = decoder.generate([EOT_ID, *tokenizer.encode("The film").ids], 8, temperature=0.7, top_k=20,
                                top_p=1.0, seed=4)
    np.testing.assert_array_equal(tokens, expected.tokens)
    np.testing.assert_allclose(probs, next_token_probs(expected.logits[0], temperature=0.7, top_k=20))
    generate = next(child for child in panel.children if getattr(child, "description", "") == "generate")
    generate.click()
    assert found["seed"].value == 5
    assert panel.still.startswith(b"\x89PNG")


def test_generation_explorer_indexes_the_precomputed_attention(parts):
    model, decoder, tokenizer = parts
    prompt = [EOT_ID, *tokenizer.encode("The acting").ids]
    ids = np.concatenate([prompt, decoder.generate(prompt, 10, greedy=True).tokens])
    weights, probs = attention_and_probs(model, ids)
    panel = generation_explorer(ids, weights, probs, len(prompt), tokenizer, stills=[{"step": 0}])
    found = controls(panel)
    assert found["step"].max == len(ids) - len(prompt) - 1
    found["step"].value, found["layer"].value, found["head"].value = 4, 1, 1
    newest = len(prompt) - 1 + 4
    np.testing.assert_allclose(panel.result, weights[1, 1, newest, :newest + 1])
    with pytest.raises(ValueError, match="prompt_length"):
        generation_explorer(ids, weights, probs, len(ids), tokenizer, stills=[{"step": 0}])
