"""The small GPT of notebook 10: causality, the KV cache against full recompute, samplers, perplexity.

Every check compares with an independent reference: one full forward pass,
a hand-computed distribution, a count done by hand.
"""
from dataclasses import replace

import numpy as np
import pytest

import helpers

helpers.start_keras_quietly()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from helpers.generation import (GPT_RECIPE, Decoder, attention_and_probs, distinct_n, entropy,  # noqa: E402
                                gpt_model, load_gpt, next_token_probs, ngram_nll, perplexity, save_gpt,
                                token_nll, train_gpt)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return gpt_model(GPT_RECIPE)


@pytest.fixture(scope="module")
def decoder(model):
    return Decoder(model)


def logits_of(model, ids):
    return ops.convert_to_numpy(model(np.array([ids], dtype=np.int32)))[0]


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_changing_a_later_token_never_changes_earlier_logits(model):
    ids = np.random.default_rng(1).integers(1, GPT_RECIPE.vocab_size, 20)
    changed = ids.copy()
    changed[12] = (changed[12] + 7) % GPT_RECIPE.vocab_size
    before, after = logits_of(model, ids), logits_of(model, changed)
    np.testing.assert_allclose(before[:12], after[:12], atol=1e-6)
    assert not np.allclose(before[12], after[12], atol=1e-4)


@pytest.mark.parametrize("prompt_length", [1, 9])
def test_cached_logits_equal_one_full_pass_at_every_step(model, decoder, prompt_length):
    # With 2 blocks, a prefill that let prompt tokens see later prompt tokens would change the
    # second block's cached keys, and with them every later step.
    assert GPT_RECIPE.num_layers >= 2
    prompt = np.random.default_rng(2).integers(0, GPT_RECIPE.vocab_size, prompt_length)
    run = decoder.generate(prompt, 20, temperature=1.0, seed=3)
    full = logits_of(model, np.concatenate([prompt, run.tokens[:-1]]))
    np.testing.assert_allclose(run.logits, full[prompt_length - 1:], atol=1e-4)


def test_cache_and_full_recompute_give_the_same_greedy_tokens_and_logits(decoder):
    prompt = np.random.default_rng(4).integers(0, GPT_RECIPE.vocab_size, 7)
    cached = decoder.generate(prompt, 25, greedy=True)
    recomputed = decoder.generate(prompt, 25, greedy=True, cache=False)
    np.testing.assert_array_equal(cached.tokens, recomputed.tokens)
    np.testing.assert_allclose(cached.logits, recomputed.logits, atol=1e-4)
    np.testing.assert_array_equal(cached.tokens, np.argmax(cached.logits, axis=-1))


def test_generation_can_fill_the_whole_context(model, decoder):
    prompt = np.arange(1, 11)
    run = decoder.generate(prompt, GPT_RECIPE.context - len(prompt) + 1, greedy=True)
    full = logits_of(model, np.concatenate([prompt, run.tokens[:-1]]))
    assert len(full) == GPT_RECIPE.context
    np.testing.assert_allclose(run.logits, full[len(prompt) - 1:], atol=1e-4)


def test_timings_cover_prefill_and_every_later_step(decoder):
    run = decoder.generate([0, 5, 6], 6, greedy=True)
    assert run.prefill_seconds > 0 and run.step_seconds.shape == (5,) and np.all(run.step_seconds > 0)


def test_low_temperature_and_top_k_one_equal_greedy(decoder):
    prompt = [0, 11, 12, 13]
    greedy = decoder.generate(prompt, 15, greedy=True).tokens
    np.testing.assert_array_equal(decoder.generate(prompt, 15, temperature=1e-4, seed=5).tokens, greedy)
    np.testing.assert_array_equal(decoder.generate(prompt, 15, top_k=1, seed=6).tokens, greedy)


def test_a_fixed_seed_gives_the_same_sample(decoder):
    prompt = [0, 21, 22]
    first = decoder.generate(prompt, 15, temperature=1.5, seed=7).tokens
    np.testing.assert_array_equal(decoder.generate(prompt, 15, temperature=1.5, seed=7).tokens, first)
    assert not np.array_equal(decoder.generate(prompt, 15, temperature=1.5, seed=8).tokens, first)


def test_sampling_follows_the_distribution():
    logits = np.log([0.6, 0.3, 0.1])
    rng = np.random.default_rng(0)
    probs = next_token_probs(logits)
    draws = [int(np.searchsorted(np.cumsum(probs), rng.random(), side="right")) for _ in range(4_000)]
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4_000, [0.6, 0.3, 0.1], atol=0.03)


# Probabilities 0.5, 0.3, 0.15, 0.05, given in shuffled order (ids 2, 0, 3, 1).
SHUFFLED = np.log([0.3, 0.05, 0.5, 0.15])


@pytest.mark.parametrize("top_p, kept", [
    (0.45, {2: 1.0}),                                     # the first token already reaches 0.45
    (0.7, {2: 0.5 / 0.8, 0: 0.3 / 0.8}),                  # 0.5 < 0.7; 0.5 + 0.3 crosses it: both kept
    (0.85, {2: 0.5 / 0.95, 0: 0.3 / 0.95, 3: 0.15 / 0.95}),
    (0.97, {2: 0.5, 0: 0.3, 3: 0.15, 1: 0.05}),
    (1.0, {2: 0.5, 0: 0.3, 3: 0.15, 1: 0.05}),
])
def test_top_p_keeps_the_smallest_set_that_reaches_p_with_the_crossing_token(top_p, kept):
    expected = np.zeros(4)
    for token, p in kept.items():
        expected[token] = p
    np.testing.assert_allclose(next_token_probs(SHUFFLED, top_p=top_p), expected, atol=1e-12)


def test_top_k_keeps_the_k_most_likely_renormalised():
    np.testing.assert_allclose(next_token_probs(SHUFFLED, top_k=2), [0.3 / 0.8, 0, 0.5 / 0.8, 0], atol=1e-12)


def test_top_p_applies_to_what_top_k_kept():
    # top-k 3 leaves 0.5, 0.3, 0.15 (sum 0.95); top-p 0.8 of that is 0.76: 0.5 + 0.3 crosses it.
    np.testing.assert_allclose(next_token_probs(SHUFFLED, top_k=3, top_p=0.8), [0.3 / 0.8, 0, 0.5 / 0.8, 0],
                               atol=1e-12)


def test_temperature_sharpens_and_flattens_by_hand():
    logits = np.array([2.0, 1.0, 0.0])
    for t in (0.5, 1.0, 3.0):
        e = np.exp(logits / t)
        np.testing.assert_allclose(next_token_probs(logits, temperature=t), e / e.sum(), atol=1e-12)
    assert entropy(next_token_probs(logits, temperature=0.5)) < entropy(next_token_probs(logits, temperature=3.0))


def test_entropy_of_known_distributions():
    np.testing.assert_allclose(entropy(np.full(8, 1 / 8)), np.log(8))
    assert entropy(np.array([1.0, 0.0, 0.0])) == 0.0


@pytest.mark.parametrize("kwargs, named", [
    (dict(prompt_ids=[]), "prompt_ids"),
    (dict(prompt_ids=np.zeros(GPT_RECIPE.context + 1, int)), "prompt_ids"),
    (dict(prompt_ids=[0, GPT_RECIPE.vocab_size]), "prompt_ids"),
    (dict(new_tokens=-1), "new_tokens"),
    (dict(prompt_ids=np.zeros(GPT_RECIPE.context - 2, int), new_tokens=5), "new_tokens"),
    (dict(temperature=0.0), "temperature"),
    (dict(temperature=-1.0), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_p=0.0), "top_p"),
    (dict(top_p=1.5), "top_p"),
])
def test_bad_generation_inputs_raise_one_clear_error(decoder, kwargs, named):
    arguments = {"prompt_ids": [0, 1, 2], "new_tokens": 3, **kwargs}
    with pytest.raises(ValueError, match=named):
        decoder.generate(arguments.pop("prompt_ids"), arguments.pop("new_tokens"), **arguments)


def test_token_nll_equals_log_softmax_of_the_logits_window_by_window(model):
    context = GPT_RECIPE.context
    stream = np.random.default_rng(9).integers(0, GPT_RECIPE.vocab_size, 2 * context + 10)
    expected = []
    for start in range(0, len(stream) - 1, context):
        window = stream[start:start + context + 1]
        log_p = log_softmax(logits_of(model, window[:-1]).astype(np.float64))
        expected.extend(-log_p[np.arange(len(window) - 1), window[1:]])
    np.testing.assert_allclose(token_nll(model, stream, batch_size=2), expected, atol=1e-4)


def test_perplexity_of_a_uniform_guess_is_the_vocabulary_size():
    vocab = 37
    assert perplexity(np.full(500, np.log(vocab))) == pytest.approx(vocab)
    # per word: the same total over half as many words
    assert perplexity(np.full(500, np.log(vocab)), count=250) == pytest.approx(vocab ** 2)


def test_add_k_ngrams_by_hand():
    train, vocab = np.array([0, 1, 0, 1, 1]), 2
    # unigram, k = 1: p(0) = (2 + 1) / (5 + 2), p(1) = (3 + 1) / (5 + 2)
    np.testing.assert_allclose(ngram_nll(train, np.array([1, 0, 1]), vocab, 1, 1.0),
                               -np.log([3 / 7, 4 / 7]))
    # bigram, k = 1: pairs 01 x2, 10 x1, 11 x1; as first token 0 x2, 1 x2
    np.testing.assert_allclose(ngram_nll(train, np.array([0, 1, 1, 0]), vocab, 2, 1.0),
                               -np.log([3 / 4, 2 / 4, 2 / 4]))


def test_attention_rows_are_causal_distributions_and_probs_are_the_softmax(model):
    ids = np.random.default_rng(10).integers(0, GPT_RECIPE.vocab_size, 12)
    weights, probs = attention_and_probs(model, ids)
    assert weights.shape == (GPT_RECIPE.num_layers, GPT_RECIPE.num_heads, 12, 12)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(weights, k=1) == 0)
    np.testing.assert_allclose(probs, np.exp(log_softmax(logits_of(model, ids).astype(np.float64))), atol=1e-5)


def test_distinct_n_counts_by_hand():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b", "a b"], 2) == 0.5
    assert distinct_n(["a"], 2) == 0.0


def test_training_starts_from_the_unigram_and_lowers_the_loss():
    recipe = replace(GPT_RECIPE, minutes=0.0)
    keras.utils.set_random_seed(0)
    untrained = gpt_model(recipe)
    stream = np.tile(np.arange(1, 10), 200)
    train_gpt(untrained, stream, recipe, echo=lambda line: None)
    counts = np.bincount(stream, minlength=recipe.vocab_size) + 1.0
    np.testing.assert_allclose(ops.convert_to_numpy(untrained.get_layer("logits").bias),
                               np.log(counts / counts.sum()), atol=1e-6)
    recipe = replace(GPT_RECIPE, minutes=0.25)
    trained = gpt_model(recipe)
    trained.set_weights(untrained.get_weights())  # the same start: what changes is the training's doing
    record = train_gpt(trained, stream, recipe, echo=lambda line: None)
    assert record["steps"] > 0 and sorted(record["snapshots"]) == sorted(recipe.snapshots)
    assert perplexity(token_nll(trained, stream[:200])) < perplexity(token_nll(untrained, stream[:200]))


def test_save_and_load_keep_the_model_and_its_snapshots(model, tmp_path):
    snapshot = [w * 0.5 for w in model.get_weights()]
    record = {"minutes": 1.0, "steps": 3, "tokens": 30, "log": [], "snapshots": {0.5: snapshot}}
    save_gpt(tmp_path / "gpt.keras", model, record)
    loaded, kept = load_gpt(tmp_path / "gpt.keras")
    ids = [0, 3, 4, 5]
    np.testing.assert_allclose(logits_of(loaded, ids), logits_of(model, ids), atol=1e-6)
    assert kept["steps"] == 3 and list(kept["snapshots"]) == [0.5]
    for got, want in zip(kept["snapshots"][0.5], snapshot):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="path"):
        save_gpt(tmp_path / "gpt.h5", model, record)
