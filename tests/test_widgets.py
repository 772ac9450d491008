"""Drive the explorers from the kernel: set a slider, read back what is shown."""
import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot
import numpy as np
import pytest

from helpers.attention import softmax
from helpers.widgets import figure_explorer, review_explorer, temperature_explorer, weights_explorer

matplotlib.use("Agg")
RNG = np.random.default_rng(1)
TOKENS = ["the", "cat", "sat", "on", "mat"]


def controls(panel):
    """The explorer's sliders by name (its `interactive` controls, without the save row or output)."""
    return {child.description: child for child in panel.kwargs_widgets}


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


def test_figure_explorer_calls_the_drawing_function_and_keeps_its_result():
    plt = matplotlib.pyplot

    waves = np.sin(np.arange(20)[:, None] / (1.0 + np.arange(4)))  # computed once

    def draw(dimension):
        plt.plot(waves[:, dimension])
        plt.show()
        return waves[:, dimension]

    panel = figure_explorer(draw, dimension=widgets.IntSlider(min=0, max=3))
    controls(panel)["dimension"].value = 2
    assert panel.result is not None and np.array_equal(panel.result, waves[:, 2])
    assert "hosa-dimension" in controls(panel)["dimension"]._dom_classes
    assert "hosa-explorer" in panel._dom_classes
    assert panel.out.layout.min_height == "440px"


def test_token_count_mismatch_is_named():
    with pytest.raises(ValueError, match="tokens must name the 5 positions"):
        temperature_explorer(np.eye(5), np.eye(5), TOKENS[:3])
    with pytest.raises(ValueError, match=r"expected rank 4, got shape \(3, 5, 5\)"):
        weights_explorer(np.ones((3, 5, 5)), TOKENS, ("layer", "head"))


def review_weights(lengths, leading=(2, 3)):
    """Softmax rows over random scores, one array (*leading, n, n) per text length n."""
    return [softmax(RNG.normal(size=(*leading, n, n))) for n in lengths]


def words(n):
    return [f"w{i}" for i in range(n)]


def test_review_explorer_shows_a_window_around_the_query():
    weights = review_weights([30, 8])
    panel = review_explorer(weights, [words(30), words(8)], window=10)
    values = controls(panel)
    values["layer"].value, values["head"].value, values["query"].value = 1, 2, 17
    view = panel.result
    assert np.array_equal(view.weights, weights[0][1, 2, 12:22, 12:22])
    assert view.query_tokens == tuple(words(30)[12:22]) and view.query_tokens[view.query] == "w17"
    assert view.first + view.query == 17, "the window knows where it sits in the review"
    assert np.array_equal(view.row, weights[0][1, 2, 17, 12:22])


def test_review_explorer_window_stops_at_the_ends_and_fits_short_texts():
    weights = review_weights([30, 8])
    panel = review_explorer(weights, [words(30), words(8)], window=10)
    values = controls(panel)
    values["query"].value = 29
    assert panel.result.query_tokens == tuple(words(30)[20:30]) and panel.result.query == 9
    values["review"].value = 1
    assert values["query"].max == 7, "the query slider spans the shown review only"
    assert panel.result.query_tokens == tuple(words(8)) and panel.result.weights.shape == (8, 8)


def test_review_explorer_of_one_head_has_review_and_query_sliders_only():
    weights = review_weights([9, 5], leading=())
    panel = review_explorer(weights, [words(9), words(5)], names=(), window=4, title="LSTM")
    values = controls(panel)
    assert set(values) == {"review", "query"}
    values["query"].value = 6
    assert np.array_equal(panel.result.weights, weights[0][4:8, 4:8]), "the window centres on the query"


def test_save_button_writes_the_picture_shown(tmp_path):
    weights = review_weights([12], leading=(2,))
    panel = review_explorer(weights, [words(12)], names=("head",), window=6,
                            save_as="attention", save_dir=tmp_path / "figures")
    values = controls(panel)
    values["head"].value, values["query"].value = 1, 4
    row = next(child for child in panel.children if isinstance(child, widgets.HBox))
    button, label = row.children
    assert "hosa-save" in button._dom_classes and "hosa-explorer" in panel._dom_classes
    button.click()
    path = tmp_path / "figures" / "attention_review0_head1_query4.png"
    assert path.read_bytes().startswith(b"\x89PNG")
    assert label.value == f"saved {path}"


def test_review_explorer_rejects_weights_that_do_not_fit_the_tokens():
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(2, 3, 8, 8\).*got shape \(2, 3, 9, 9\)"):
        review_explorer(review_weights([5, 9]), [words(5), words(8)])
    with pytest.raises(ValueError, match=r"one entry per text: got 2 weight arrays and 1 token lists"):
        review_explorer(review_weights([5, 9]), [words(5)])
    with pytest.raises(ValueError, match=r"one axis per name in \('layer', 'head'\)"):
        review_explorer(review_weights([5], leading=(2,)), [words(5)])
    with pytest.raises(ValueError, match=r"window must be a positive int; got 0"):
        review_explorer(review_weights([5]), [words(5)], window=0)


@pytest.fixture(autouse=True)
def close_figures():
    """Each explorer draws figures that Agg keeps open; close them after every test."""
    yield
    matplotlib.pyplot.close("all")
