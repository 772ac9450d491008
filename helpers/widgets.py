"""Slider explorers for attention pictures.

Built only from ipywidgets API common to 7.7 (what Colab ships) and 8:
`interactive`, `IntSlider`, `FloatSlider`, `Dropdown`, `Layout`. Anything a
slider does not change is computed once, outside the drawing function; the
drawing function only indexes it. `interactive` clears its output with
`wait=True`, so the old picture stays until the new one is ready (no flicker),
and the output has a fixed minimum height so the page does not jump.

Every explorer returns the `interactive` widget. Its `.result` holds what is
drawn now (a `View`; for `figure_explorer`, whatever its drawing function
returns), so a test can set `children[i].value` and compare the shown
weights with a fresh computation. Given `save_as`, an explorer also has a
"save PNG" button (`Button`, `Label`: common to 7.7 and 8) that writes the
picture shown to `<save_dir>/<save_as>_<control values>.png`.
"""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from helpers.attention import attention_scores, softmax
from helpers.plots import attention_heatmap

__all__ = ["View", "explorer", "figure_explorer", "temperature_explorer", "weights_explorer",
           "review_explorer"]


@dataclass(frozen=True)
class View:
    """What an explorer shows: the (n_q, n_k) weights drawn and the chosen query row.

    first: the position, in the whole text, of the first query shown (0 unless
    the view is a window of a longer text).
    """

    weights: np.ndarray
    query: int
    query_tokens: tuple
    key_tokens: tuple
    first: int = 0

    @property
    def row(self):
        """The chosen query's weights over the keys, (n_k,)."""
        return self.weights[self.query]


def _figure(view, title, vmax=1.0):
    """The heatmap of `view` beside the bar chart of its query's row, as a new figure.

    vmax: the top of the colour scale and of the bars; None: the largest weight shown.
    """
    top = max(float(np.max(view.weights)), 1e-9) if vmax is None else vmax
    height = max(4.2, 1.6 + 0.2 * len(view.query_tokens))  # rows stay readable for long windows
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, height), gridspec_kw={"width_ratios": [1.25, 1]})
    attention_heatmap(view.weights, view.query_tokens, view.key_tokens, ax=left,
                      title=title, vmax=top, highlight_query=view.query)
    keys = range(len(view.key_tokens))
    right.bar(keys, view.row, color="tab:blue")
    right.set_xticks(keys, view.key_tokens, rotation=60, ha="right")
    right.set_ylim(0, top)
    right.set_xlabel("key token (attended to)")
    right.set_ylabel("weight")
    right.set_title(f"query {view.first + view.query}: '{view.query_tokens[view.query]}' "
                    f"(weights sum to {view.row.sum():.2f})")
    fig.tight_layout()
    return fig


def _save_button(panel, title_fn, controls, save_as, save_dir, vmax):
    """A "save PNG" button (class hosa-save) and a label that shows where it saved."""
    button = widgets.Button(description="save PNG", tooltip=f"save the picture to {save_dir}/")
    button.add_class("hosa-save")
    saved = widgets.Label(value="")

    def save(_):
        values = {name: control.value for name, control in controls.items()}
        suffix = "_".join(f"{name}{value}" for name, value in values.items())
        path = Path(save_dir) / f"{save_as}_{suffix}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig = _figure(panel.result, title_fn(**values), vmax)
        fig.savefig(path, dpi=120)
        plt.close(fig)
        saved.value = f"saved {path}"

    button.on_click(save)
    return widgets.HBox([button, saved])


def figure_explorer(draw_fn, min_height="440px", **controls):
    """An `interactive` that calls `draw_fn(**values)` each time a control moves.

    draw_fn: draws one figure for the controls' current values (and shows
    it, e.g. with plt.show()); what it returns becomes the panel's `.result`.
    For pictures other than the heatmap and bar chart of `explorer`.
    controls: name -> ipywidgets control (each gets the CSS class
    `hosa-<name>`, a stable hook for browser tests).
    """
    for name, control in controls.items():
        control.add_class(f"hosa-{name}")
        control.style = {"description_width": "initial"}
    panel = widgets.interactive(draw_fn, **controls)
    panel.add_class("hosa-explorer")
    panel.out.layout = widgets.Layout(min_height=min_height)
    return panel


def explorer(view_fn, title_fn, min_height="440px", save_as=None, save_dir=None, vmax=1.0, **controls):
    """An `interactive` that draws `view_fn(**values)` each time a control moves.

    view_fn: returns the `View` to draw for the controls' current values.
    title_fn: returns the heatmap's title for the same values.
    save_as: a file stem; given, a "save PNG" button (class hosa-save) writes
    the picture shown to `save_dir`/<save_as>_<name><value>_....png and shows
    the path (save_dir default: `helpers.data.cache_dir()`/figures, data/figures).
    vmax: the top of the colour scale and of the bars (None: the largest
    weight in the picture, for weights spread over many keys).
    controls: name -> ipywidgets control (each gets the CSS class
    `hosa-<name>`, a stable hook for browser tests).
    """
    def show(**values):
        view = view_fn(**values)
        _figure(view, title_fn(**values), vmax)
        plt.show()
        return view

    panel = figure_explorer(show, min_height=min_height, **controls)
    if save_as is not None:
        if save_dir is None:
            from helpers.data import cache_dir
            save_dir = cache_dir() / "figures"
        row = _save_button(panel, title_fn, controls, save_as, save_dir, vmax)
        panel.children = (*panel.children[:-1], row, panel.children[-1])
    return panel


def _index_slider(name, size):
    """A slider over the indices 0 .. size - 1 that redraws when released."""
    return widgets.IntSlider(value=0, min=0, max=size - 1, step=1, description=name,
                             continuous_update=False)


def temperature_explorer(q, k, tokens, temperature=1.0):
    """Sliders for temperature T and query token over softmax(Q K^T / (T sqrt(d_k))).

    q: (n, d_k), k: (n, d_k), tokens: n labels. The scores are computed once;
    each temperature's weights once (cached), whatever the query slider does.
    """
    scores = attention_scores(q, k)
    if scores.ndim != 2:
        raise ValueError(f"q and k must be 2-D (n, d_k); got scores of shape {scores.shape}")
    if len(tokens) != scores.shape[0] or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"tokens must name the {scores.shape[0]} positions of q and k; "
                         f"got {len(tokens)} tokens for scores {scores.shape}")
    tokens = tuple(tokens)

    @lru_cache(maxsize=128)
    def weights_at(temperature):
        return softmax(scores / temperature)

    return explorer(
        lambda temperature, query: View(weights_at(temperature), query, tokens, tokens),
        lambda temperature, query: f"softmax(QKᵀ / ({temperature:.1f}·√d_k))",
        temperature=widgets.FloatSlider(value=temperature, min=0.1, max=5.0, step=0.1,
                                        description="temperature", continuous_update=False),
        query=_index_slider("query", len(tokens)),
    )


def weights_explorer(weights, tokens, names, key_tokens=None, title="Attention weights"):
    """Sliders over precomputed weights (..., n_q, n_k): one per leading axis, plus query.

    weights: array whose leading axes are named by `names` (for example
    ("layer", "head")); tokens: n_q query labels; key_tokens: n_k labels
    (default: `tokens`). Moving a slider only indexes `weights`.
    """
    weights = np.asarray(weights)
    if weights.ndim != len(names) + 2:
        raise ValueError(f"weights must have one axis per name in {tuple(names)} plus "
                         f"(n_q, n_k): expected rank {len(names) + 2}, got shape {weights.shape}")
    key_tokens = tokens if key_tokens is None else key_tokens
    n_q, n_k = weights.shape[-2:]
    if len(tokens) != n_q or len(key_tokens) != n_k:
        raise ValueError(f"tokens must name the (n_q, n_k) = {(n_q, n_k)} positions; got "
                         f"{len(tokens)} query and {len(key_tokens)} key tokens")
    tokens, key_tokens = tuple(tokens), tuple(key_tokens)
    controls = {name: _index_slider(name, size) for name, size in zip(names, weights.shape[:-2])}
    controls["query"] = _index_slider("query", n_q)

    def view(query, **index):
        return View(weights[tuple(index[name] for name in names)], query, tokens, key_tokens)

    def title_of(query, **index):
        where = ", ".join(f"{name} {index[name]}" for name in names)
        return f"{title} ({where})" if where else title

    return explorer(view, title_of, **controls)


def review_explorer(weights, tokens, names=("layer", "head"), window=20, title="Attention",
                    save_as=None, save_dir=None):
    """Sliders over the attention of several texts of different lengths, a window at a time.

    weights: one array per text r, shape (*leading, n_r, n_r), its leading
    axes named by `names` (the same sizes for every text); tokens: one list
    of n_r words per text (real tokens only: no padding). Sliders: review,
    one per name, and query (0 to n_r - 1). The picture shows the `window`
    tokens around the query on both axes, so it stays readable for long
    texts; the bar chart's weights sum to the share of the query's attention
    that falls inside the window. Weights spread over hundreds of keys are
    small, so the colour scale runs up to the largest weight shown.
    save_as, save_dir: see `explorer`.
    """
    weights = [np.asarray(w) for w in weights]
    if not weights or len(weights) != len(tokens):
        raise ValueError(f"weights and tokens must hold one entry per text: got {len(weights)} "
                         f"weight arrays and {len(tokens)} token lists")
    leading = weights[0].shape[:-2]
    for r, (w, words) in enumerate(zip(weights, tokens)):
        n = len(words)
        if w.shape != (*leading, n, n):
            raise ValueError(f"weights[{r}] must have shape {(*leading, n, n)} (one axis per name in "
                             f"{tuple(names)}, then tokens[{r}]'s {n} words twice); got shape {w.shape}")
    if len(leading) != len(names):
        raise ValueError(f"weights must have one axis per name in {tuple(names)} plus (n, n); "
                         f"got shape {weights[0].shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int; got {window!r}")
    tokens = [tuple(str(t) for t in words) for words in tokens]
    controls = {"review": _index_slider("review", len(weights))}
    controls.update({name: _index_slider(name, size) for name, size in zip(names, leading)})
    controls["query"] = _index_slider("query", len(tokens[0]))

    def fit_query(change):
        controls["query"].max = len(tokens[change["new"]]) - 1

    controls["review"].observe(fit_query, names="value")

    def bounds(review, query):
        n = len(tokens[review])
        start = min(max(0, query - window // 2), max(0, n - window))
        return start, min(n, start + window)

    def view(review, query, **index):
        query = min(query, len(tokens[review]) - 1)
        start, end = bounds(review, query)
        matrix = weights[review][tuple(index[name] for name in names)][start:end, start:end]
        words = tokens[review][start:end]
        return View(matrix, query - start, words, words, first=start)

    def title_of(review, query, **index):
        start, end = bounds(review, min(query, len(tokens[review]) - 1))
        parts = [f"review {review}", *(f"{name} {index[name]}" for name in names),
                 f"tokens {start}-{end - 1} of {len(tokens[review])}"]
        return f"{title}: " + ", ".join(parts)

    return explorer(view, title_of, save_as=save_as, save_dir=save_dir, vmax=None, **controls)
