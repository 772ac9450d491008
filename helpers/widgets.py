"""Slider explorers for attention pictures.

Built only from ipywidgets API common to 7.7 (what Colab ships) and 8:
`interactive`, `IntSlider`, `FloatSlider`, `Dropdown`, `Layout`. Anything a
slider does not change is computed once, outside the drawing function; the
drawing function only indexes it. `interactive` clears its output with
`wait=True`, so the old picture stays until the new one is ready (no flicker),
and the output has a fixed minimum height so the page does not jump.

Every explorer returns the `interactive` widget. Its `.result` holds what is
drawn now (a `View`), so a test can set `children[i].value` and compare the
shown weights with a fresh computation.
"""
from dataclasses import dataclass
from functools import lru_cache

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from helpers.attention import attention_scores, softmax
from helpers.plots import attention_heatmap

__all__ = ["View", "explorer", "temperature_explorer", "weights_explorer"]


@dataclass(frozen=True)
class View:
    """What an explorer shows: the (n_q, n_k) weights drawn and the chosen query row."""

    weights: np.ndarray
    query: int
    query_tokens: tuple
    key_tokens: tuple

    @property
    def row(self):
        """The chosen query's weights over the keys, (n_k,)."""
        return self.weights[self.query]


def _draw(view, title):
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.25, 1]})
    attention_heatmap(view.weights, view.query_tokens, view.key_tokens, ax=left,
                      title=title, vmax=1.0, highlight_query=view.query)
    keys = range(len(view.key_tokens))
    right.bar(keys, view.row, color="tab:blue")
    right.set_xticks(keys, view.key_tokens, rotation=60, ha="right")
    right.set_ylim(0, 1)
    right.set_xlabel("key token (attended to)")
    right.set_ylabel("weight")
    right.set_title(f"query {view.query}: '{view.query_tokens[view.query]}' "
                    f"(weights sum to {view.row.sum():.2f})")
    fig.tight_layout()
    plt.show()


def explorer(view_fn, title_fn, min_height="440px", **controls):
    """An `interactive` that draws `view_fn(**values)` each time a control moves.

    view_fn: returns the `View` to draw for the controls' current values.
    title_fn: returns the heatmap's title for the same values.
    controls: name -> ipywidgets control (each gets the CSS class
    `hosa-<name>`, a stable hook for browser tests).
    """
    for name, control in controls.items():
        control.add_class(f"hosa-{name}")
        control.style = {"description_width": "initial"}

    def show(**values):
        view = view_fn(**values)
        _draw(view, title_fn(**values))
        return view

    panel = widgets.interactive(show, **controls)
    panel.add_class("hosa-explorer")
    panel.out.layout = widgets.Layout(min_height=min_height)
    return panel


def _query_slider(n, value=0):
    return widgets.IntSlider(value=value, min=0, max=n - 1, step=1, description="query",
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
        query=_query_slider(len(tokens)),
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
    controls = {name: widgets.IntSlider(value=0, min=0, max=size - 1, description=name,
                                        continuous_update=False)
                for name, size in zip(names, weights.shape[:-2])}
    controls["query"] = _query_slider(n_q)

    def view(query, **index):
        return View(weights[tuple(index[name] for name in names)], query, tokens, key_tokens)

    def title_of(query, **index):
        where = ", ".join(f"{name} {index[name]}" for name in names)
        return f"{title} ({where})" if where else title

    return explorer(view, title_of, **controls)
