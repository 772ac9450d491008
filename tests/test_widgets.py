"""Drive the explorers from the kernel: set a slider, read back what is shown."""
import matplotlib
import numpy as np
import pytest

from helpers.attention import softmax
from helpers.widgets import temperature_explorer, weights_explorer

matplotlib.use("Agg")
RNG = np.random.default_rng(1)
TOKENS = ["the", "cat", "sat", "on", "mat"]


def controls(panel):
    return {child.description: child for child in panel.children[:-1]}


def test_temperature_slider_shows_fresh_softmax():
    q, k = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    panel = temperature_explorer(q, k, TOKENS)
    controls(panel)["temperature"].value = 2.5
    controls(panel)["query"].value = 3
    want = np.exp(q @ k.T / (2.5 * 2.0))
    want /= want.sum(axis=-1, keepdims=True)
    assert np.allclose(panel.result.weights, want)
    assert panel.result.query == 3
    assert np.allclose(panel.result.row, want[3])


def test_low_temperature_is_sharper_than_high():
    q, k = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    panel = temperature_explorer(q, k, TOKENS)
    controls(panel)["temperature"].value = 0.1
    sharp = panel.result.weights.max(axis=-1)
    controls(panel)["temperature"].value = 5.0
    flat = panel.result.weights.max(axis=-1)
    assert np.all(sharp > flat)


def test_query_slider_does_not_recompute_weights():
    q, k = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    panel = temperature_explorer(q, k, TOKENS)
    before = panel.result.weights
    controls(panel)["query"].value = 4
    assert panel.result.weights is before


def test_weights_explorer_indexes_layer_and_head():
    weights = softmax(RNG.normal(size=(2, 3, 5, 5)))
    panel = weights_explorer(weights, TOKENS, ("layer", "head"))
    controls(panel)["layer"].value = 1
    controls(panel)["head"].value = 2
    controls(panel)["query"].value = 1
    assert np.array_equal(panel.result.weights, weights[1, 2])
    assert np.array_equal(panel.result.row, weights[1, 2, 1])


def test_sliders_carry_css_hooks_for_browser_tests():
    panel = temperature_explorer(np.eye(5), np.eye(5), TOKENS)
    assert "hosa-temperature" in controls(panel)["temperature"]._dom_classes
    assert "hosa-explorer" in panel._dom_classes


def test_token_count_mismatch_is_named():
    with pytest.raises(ValueError, match="tokens must name the 5 positions"):
        temperature_explorer(np.eye(5), np.eye(5), TOKENS[:3])
    with pytest.raises(ValueError, match=r"expected rank 4, got shape \(3, 5, 5\)"):
        weights_explorer(np.ones((3, 5, 5)), TOKENS, ("layer", "head"))
