"""Drive the explorers from the kernel: set a slider, read back what is shown."""
import subprocess
import sys

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.attention import softmax
from helpers.frames import png_pixels
from helpers.widgets import (AttentionPicture, View, _next_keys, explorer, figure_explorer, review_explorer,
                             temperature_explorer, weights_explorer)

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


def test_explorer_takes_tokens_as_lists_too():
    weights = softmax(RNG.normal(size=(2, 5, 5)))
    panel = explorer(lambda example, query: View(weights[example], query, TOKENS, TOKENS),  # lists, not tuples
                     lambda example, query: f"example {example}", stills=[{}],
                     example=widgets.IntSlider(min=0, max=1), query=widgets.IntSlider(min=0, max=4))
    controls(panel)["example"].value = 1
    assert np.array_equal(panel.result.weights, weights[1])
    assert panel.frames.last_png.startswith(b"\x89PNG")


def test_the_next_frames_are_drawn_ahead():
    weights = softmax(RNG.normal(size=(3, 5, 5)))
    panel = weights_explorer(weights, TOKENS, ("head",), stills=[{}])
    values = controls(panel)
    values["query"].value = 2
    panel.frames.wait()
    for head, query in [(0, 3), (0, 1), (1, 2)]:  # one step from (head 0, query 2) on each slider
        assert (("head", head), ("query", query)) in panel.frames
    assert (("head", 2), ("query", 2)) not in panel.frames, "two steps away is not drawn ahead"


def test_a_frame_drawn_ahead_equals_a_fresh_full_draw():
    weights = softmax(RNG.normal(size=(3, 6, 6)))
    panel = weights_explorer(weights, TOKENS + ["rug"], ("head",), stills=[{}])
    values = controls(panel)
    values["head"].value = 1
    panel.frames.wait()
    assert (("head", 2), ("query", 0)) in panel.frames, "one step on in the direction moved"
    values["head"].value = 2  # shown from what was drawn ahead
    assert_shown_equals(panel, fresh_picture(panel, "Attention weights (head 2)"))


def test_controls_other_than_sliders_and_dropdowns_still_redraw():
    weights = softmax(RNG.normal(size=(2, 5, 5)))
    panel = explorer(lambda causal, query: View(np.tril(weights[int(causal)]), query, TOKENS, TOKENS),
                     lambda causal, query: f"causal {causal}", stills=[{}],
                     causal=widgets.Checkbox(value=False, description="causal"),
                     query=widgets.IntSlider(min=0, max=4))
    before = panel.frames.last_png
    controls(panel)["causal"].value = True
    assert np.array_equal(panel.result.weights, np.tril(weights[1]))
    assert panel.frames.last_png != before


def test_a_view_that_does_not_fit_its_tokens_is_named():
    with pytest.raises(ValueError, match=r"view_fn\{'query': 0\} returned weights of shape \(5, 3\) for 5 query "
                                         r"and 5 key tokens; they must have shape \(5, 5\)"):
        explorer(lambda query: View(np.ones((5, 3)), query, TOKENS, TOKENS), lambda query: "title", stills=[{}],
                 query=widgets.IntSlider(min=0, max=4))


def test_the_interpreter_exits_cleanly_while_frames_are_drawn_ahead():
    script = ("import numpy as np\n"
              "from helpers.widgets import weights_explorer\n"
              "panels = [weights_explorer(np.ones((4, 30, 30)) / 30, [str(i) for i in range(30)], ('head',), stills=[{}])\n"
              "          for _ in range(3)]\n"
              "for panel in panels:\n"
              "    panel.kwargs_widgets[0].value = 1\n")
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]


def test_next_keys_put_the_control_that_moved_first_in_its_direction():
    sliders = {"layer": widgets.IntSlider(min=0, max=3), "query": widgets.IntSlider(min=0, max=9),
               "kind": widgets.Dropdown(options=["a", "b", "c"])}
    keys = _next_keys(sliders, {"layer": 1, "query": 4, "kind": "b"}, before={"layer": 1, "query": 5, "kind": "b"})
    assert [dict(key) for key in keys[:2]] == [{"layer": 1, "query": 3, "kind": "b"},
                                               {"layer": 1, "query": 5, "kind": "b"}]
    assert {(k["layer"], k["kind"]) for k in map(dict, keys[2:])} == {(2, "b"), (0, "b"), (1, "c"), (1, "a")}
    temperature = {"t": widgets.FloatSlider(min=0.1, max=5.0, step=0.1)}
    assert [dict(key)["t"] for key in _next_keys(temperature, {"t": 0.7}, None)] == [0.8, 0.6]


def test_weights_explorer_indexes_layer_and_head():
    weights = softmax(RNG.normal(size=(2, 3, 5, 5)))
    panel = weights_explorer(weights, TOKENS, ("layer", "head"), stills=[{}])
    controls(panel)["layer"].value = 1
    controls(panel)["head"].value = 2
    controls(panel)["query"].value = 1
    assert np.array_equal(panel.result.weights, weights[1, 2])
    assert np.array_equal(panel.result.row, weights[1, 2, 1])


def test_sliders_carry_css_hooks_for_browser_tests():
    panel = temperature_explorer(np.eye(5), np.eye(5), TOKENS)
    assert "hosa-temperature" in controls(panel)["temperature"]._dom_classes
    assert "hosa-explorer" in panel._dom_classes


def wave_builder(calls):
    """A figure_explorer build function over sine waves computed once; counts update calls in `calls`."""
    waves = np.sin(np.arange(20)[:, None] / (1.0 + np.arange(4)))

    def build(fig):
        ax = fig.subplots()
        (line,) = ax.plot(waves[:, 0])
        ax.set(xlabel="position", ylabel="value", ylim=(-1.1, 1.1))

        def update(dimension):
            calls.append(dimension)
            line.set_ydata(waves[:, dimension])
            ax.set_title(f"dimension {dimension}")
            return waves[:, dimension]

        return update

    return build, waves


def test_figure_explorer_calls_update_and_keeps_its_result():
    calls = []
    build, waves = wave_builder(calls)
    panel = figure_explorer(build, stills=[{}], dimension=widgets.IntSlider(min=0, max=3))
    controls(panel)["dimension"].value = 2
    assert calls[0] == 0 and 2 in calls, "update is called for the first values and each new one"
    assert np.array_equal(panel.result, waves[:, 2])
    assert "hosa-dimension" in controls(panel)["dimension"]._dom_classes
    assert "hosa-explorer" in panel._dom_classes


def test_the_picture_widget_holds_the_frame_shown():
    panel = temperature_explorer(np.eye(5), np.eye(5), TOKENS)
    picture = next(child for child in panel.children if isinstance(child, widgets.Image))
    controls(panel)["query"].value = 2
    assert "hosa-picture" in picture._dom_classes and picture.format == "png"
    assert bytes(picture.value) == panel.frames.last_png and panel.frames.last_png.startswith(b"\x89PNG")


def test_token_count_mismatch_is_named():
    with pytest.raises(ValueError, match="tokens must name the 5 positions"):
        temperature_explorer(np.eye(5), np.eye(5), TOKENS[:3])
    with pytest.raises(ValueError, match=r"expected rank 4, got shape \(3, 5, 5\)"):
        weights_explorer(np.ones((3, 5, 5)), TOKENS, ("layer", "head"), stills=[{}])


def review_weights(lengths, leading=(2, 3)):
    """Softmax rows over random scores, one array (*leading, n, n) per text length n."""
    return [softmax(RNG.normal(size=(*leading, n, n))) for n in lengths]


def words(n):
    return [f"w{i}" for i in range(n)]


def test_review_explorer_shows_a_window_around_the_query():
    weights = review_weights([30, 8])
    panel = review_explorer(weights, [words(30), words(8)], window=10, stills=[{}])
    values = controls(panel)
    values["layer"].value, values["head"].value, values["query"].value = 1, 2, 17
    view = panel.result
    # Windows start at multiples of 5 (half the width); 15-24 puts w17 nearest the middle.
    assert np.array_equal(view.weights, weights[0][1, 2, 15:25, 15:25])
    assert view.query_tokens == tuple(words(30)[15:25]) and view.query_tokens[view.query] == "w17"
    assert view.first + view.query == 17, "the window knows where it sits in the review"
    assert np.array_equal(view.row, weights[0][1, 2, 17, 15:25])
    assert view.top == weights[0][:, :, 15:25, 15:25].max(), "one colour scale for every layer and head"


def test_review_explorer_keeps_its_window_while_the_query_moves_inside_it():
    panel = review_explorer(review_weights([60]), [words(60)], window=24, stills=[{}])
    starts = {}
    for query in range(60):
        controls(panel)["query"].value = query
        view = panel.result
        starts[query] = view.first
        before, after = view.query, len(view.query_tokens) - 1 - view.query
        assert min(before, after) >= 6 or view.first in (0, 36), (query, view.first)
    assert sorted(set(starts.values())) == [0, 12, 24, 36]


def test_review_explorer_window_stops_at_the_ends_and_fits_short_texts():
    weights = review_weights([30, 8])
    panel = review_explorer(weights, [words(30), words(8)], window=10, stills=[{}])
    values = controls(panel)
    values["query"].value = 29
    assert panel.result.query_tokens == tuple(words(30)[20:30]) and panel.result.query == 9
    values["review"].value = 1
    assert values["query"].max == 7, "the query slider spans the shown review only"
    assert panel.result.query_tokens == tuple(words(8)) and panel.result.weights.shape == (8, 8)


def test_review_explorer_of_one_head_has_review_and_query_sliders_only():
    weights = review_weights([9, 5], leading=())
    panel = review_explorer(weights, [words(9), words(5)], names=(), window=4, title="LSTM", stills=[{}])
    values = controls(panel)
    assert set(values) == {"review", "query"}
    values["query"].value = 6
    assert np.array_equal(panel.result.weights, weights[0][4:8, 4:8]), "the window centres on the query"


def test_save_button_writes_the_picture_shown(tmp_path):
    weights = review_weights([12], leading=(2,))
    panel = review_explorer(weights, [words(12)], names=("head",), window=6, stills=[{}],
                            save_as="attention", save_dir=tmp_path / "figures")
    values = controls(panel)
    values["head"].value, values["query"].value = 1, 4
    row = next(child for child in panel.children if isinstance(child, widgets.HBox))
    button, label = row.children
    assert "hosa-save" in button._dom_classes and "hosa-explorer" in panel._dom_classes
    button.click()
    path = tmp_path / "figures" / "attention_review0_head1_query4.png"
    assert path.read_bytes().startswith(b"\x89PNG")
    # Only what a reader needs, never the absolute path of the machine that ran the notebook.
    assert label.value == "saved …/figures/attention_review0_head1_query4.png"
    assert str(tmp_path) not in button.tooltip


def test_save_button_shows_a_path_under_the_working_folder_relative_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    weights = review_weights([8], leading=())
    panel = review_explorer(weights, [words(8)], names=(), window=4, stills=[{}], save_as="a",
                            save_dir=tmp_path / "out" / "figures")
    button, label = next(child for child in panel.children if isinstance(child, widgets.HBox)).children
    button.click()
    assert label.value == "saved out/figures/a_review0_query0.png"
    assert button.tooltip == "save the picture to out/figures/"


def test_review_explorer_rejects_weights_that_do_not_fit_the_tokens():
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(2, 3, 8, 8\).*got shape \(2, 3, 9, 9\)"):
        review_explorer(review_weights([5, 9]), [words(5), words(8)], stills=[{}])
    with pytest.raises(ValueError, match=r"one entry per text: got 2 weight arrays and 1 token lists"):
        review_explorer(review_weights([5, 9]), [words(5)], stills=[{}])
    with pytest.raises(ValueError, match=r"one axis per name in \('layer', 'head'\)"):
        review_explorer(review_weights([5], leading=(2,)), [words(5)], stills=[{}])
    with pytest.raises(ValueError, match=r"window must be a positive int; got 0"):
        review_explorer(review_weights([5]), [words(5)], window=0, stills=[{}])


def fresh_picture(panel, title):
    """Pixels of the panel's current view drawn in full on a new AttentionPicture (no blitting, no memory)."""
    view = panel.result
    picture = AttentionPicture(view.query_tokens, view.key_tokens, view.top if view.top is not None else 1.0)
    picture.set_frame(view, title)
    return picture.live.full_draw()


def assert_shown_equals(panel, expected_rgba):
    shown = png_pixels(panel.frames.last_png)
    assert shown.shape == expected_rgba[..., :3].shape
    differ = np.any(shown != expected_rgba[..., :3], axis=-1)
    assert not differ.any(), f"{differ.sum()} pixels differ from a fresh full draw"


def test_fast_frames_equal_a_fresh_full_draw_pixel_for_pixel():
    q, k = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 4))
    panel = temperature_explorer(q, k, ["the", "cat", "sat", "on", "the", "mat"])
    values = controls(panel)
    for temperature, query in [(0.3, 5), (2.0, 0), (4.2, 3), (0.3, 5), (1.0, 2)]:  # with a revisit
        values["temperature"].value, values["query"].value = temperature, query
        assert_shown_equals(panel, fresh_picture(panel, f"softmax(QKᵀ / ({temperature:g}·√d_k))"))


def test_fast_frames_equal_a_fresh_full_draw_when_the_layout_changes():
    weights = review_weights([40, 9])
    panel = review_explorer(weights, [words(40), words(9)], window=12, title="IMDB", stills=[{}])
    values = controls(panel)
    for review, layer, head, query in [(0, 1, 2, 30), (1, 0, 0, 4), (0, 1, 1, 3), (0, 0, 2, 31)]:
        values["review"].value, values["layer"].value = review, layer
        values["head"].value, values["query"].value = head, query
        view = panel.result
        title = f"IMDB: review {review}, layer {layer}, head {head}"
        if review == 0:  # review 1 (9 words) fits the window whole
            title += f", tokens {view.first}-{view.first + len(view.query_tokens) - 1} of 40"
        assert_shown_equals(panel, fresh_picture(panel, title))


def test_figure_explorer_frames_equal_a_fresh_full_draw():
    build, _ = wave_builder([])
    panel = figure_explorer(build, stills=[{}], dimension=widgets.IntSlider(min=0, max=3))
    for dimension in (3, 1, 2):
        controls(panel)["dimension"].value = dimension
    fresh = Figure(figsize=(11.0, 4.5))
    FigureCanvasAgg(fresh)
    build(fresh)(dimension=2)
    fresh.canvas.draw()
    assert_shown_equals(panel, np.asarray(fresh.canvas.buffer_rgba()))


def test_the_static_companion_stacks_the_frames_of_its_stills():
    q, k = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 4))
    panel = temperature_explorer(q, k, TOKENS, query=2)
    still = png_pixels(panel.still)
    values = controls(panel)
    frames = []
    for temperature in (0.25, 1.0, 4.0):  # the default stills, at the starting query
        values["temperature"].value, values["query"].value = temperature, 2
        frames.append(fresh_picture(panel, f"softmax(QKᵀ / ({temperature:g}·√d_k))")[..., :3])
    assert np.array_equal(still, np.concatenate(frames)), "the still is the three frames, one below the other"


def test_stills_name_only_controls_of_the_explorer():
    with pytest.raises(ValueError, match=r"stills\[1\] names \['layer'\], which are not controls"):
        weights_explorer(np.ones((2, 5, 5)) / 5, TOKENS, ("head",), stills=[{"head": 1}, {"layer": 0}])
    with pytest.raises(ValueError, match=r"stills must be a non-empty list of dicts"):
        weights_explorer(np.ones((2, 5, 5)) / 5, TOKENS, ("head",), stills=[])


def test_an_axis_with_labels_is_a_dropdown_that_indexes_it():
    weights = softmax(RNG.normal(size=(2, 5, 5)))
    panel = weights_explorer(weights, TOKENS, ("weights",), labels={"weights": ["random", "trained"]},
                             stills=[{"weights": 0}, {"weights": 1}], title="Self-attention")
    chooser = controls(panel)["weights"]
    assert isinstance(chooser, widgets.Dropdown) and [label for label, _ in chooser.options] == ["random", "trained"]
    chooser.value = 1
    assert np.array_equal(panel.result.weights, weights[1])
    assert_shown_equals(panel, fresh_picture(panel, "Self-attention (weights trained)"))
    with pytest.raises(ValueError, match=r"labels\['weights'\] must name the 2 entries"):
        weights_explorer(weights, TOKENS, ("weights",), labels={"weights": ["one"]}, stills=[{}])


def test_review_explorer_of_cross_attention_shows_every_key():
    weights = [softmax(RNG.normal(size=(2, n, m))) for n, m in [(6, 4), (3, 7)]]
    panel = review_explorer(weights, [words(6), words(3)], names=("head",), key_tokens=[list("abcd"), list("abcdefg")],
                            text="sentence", window=4, stills=[{}])
    values = controls(panel)
    assert set(values) == {"sentence", "head", "query"}
    values["head"].value, values["query"].value = 1, 5
    assert np.array_equal(panel.result.weights, weights[0][1, 2:6]), "a window of queries, every key"
    assert panel.result.key_tokens == tuple("abcd")
    values["sentence"].value = 1
    assert panel.result.weights.shape == (3, 7) and values["query"].max == 2
