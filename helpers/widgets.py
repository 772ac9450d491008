"""Slider explorers for attention pictures.

Built only from ipywidgets API common to 7.7 (what Colab ships) and 8:
`interactive`, `IntSlider`, `FloatSlider`, `Dropdown`, `Image`, `Layout`.
Anything a slider does not change is computed once, outside the drawing
function; the drawing function only indexes it. The picture is drawn once
for each set of tokens and then only changed in place
(`helpers.frames.LiveFigure`): a slider move repaints the insides of the
heatmap and bar chart and their titles, in 10-30 ms instead of the
200-400 ms a new figure costs, and a frame seen before comes from memory. The frame goes to an `Image` widget
as PNG bytes, which the browser swaps in place: the old picture stays until
the new one is there (no flicker), and the page does not jump.

Every explorer returns the `interactive` widget. Its `.result` holds what is
drawn now (a `View`; for `figure_explorer`, whatever its update function
returns), so a test can set `children[i].value` and compare the shown
weights with a fresh computation; `.frames.last_png` is the PNG shown.
Every explorer also shows, above its sliders, a static companion: the
frames at the `stills` the notebook names (a list of control values), one
below the other, as one ordinary PNG output. It is what a reader sees where
widgets do not render (GitHub, nbviewer, Colab before "run all") and what a
handout prints; in class it puts the views the sliders teach side by side.
Given `save_as`, an explorer also has a "save PNG" button (`Button`,
`Label`: common to 7.7 and 8) that writes the picture shown, drawn afresh at
120 dpi, to `<save_dir>/<save_as>_<control values>.png`.
"""
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from IPython.display import Image, display
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image as PILImage

from helpers.attention import attention_scores, softmax
from helpers.frames import Frames, LiveFigure, Recent, png_pixels

__all__ = ["View", "AttentionPicture", "explorer", "figure_explorer", "temperature_explorer",
           "weights_explorer", "review_explorer"]


@dataclass(frozen=True)
class View:
    """What an explorer shows: the (n_q, n_k) weights drawn and the chosen query row.

    first: the position, in the whole text, of the first query shown (0 unless
    the view is a window of a longer text). top: the top of the colour scale
    and of the bars (None: the explorer's vmax).
    """

    weights: np.ndarray
    query: int
    query_tokens: tuple
    key_tokens: tuple
    first: int = 0
    top: float = None

    @property
    def row(self):
        """The chosen query's weights over the keys, (n_k,)."""
        return self.weights[self.query]


class AttentionPicture:
    """The explorer's picture of a `View`: its heatmap beside the bar chart of its query's row.

    Heatmap: queries (rows) against keys (columns), tokens on both axes, a
    colour bar, the query's row outlined in red. Bars: the query's weights
    over the keys (their values, rather than numbers written in the cells:
    each number drawn costs about 1 ms a frame). One picture serves every
    view with these tokens and colour scale, 0 to `top`; `png` draws a view.
    dpi: 100 on screen.
    """

    WIDTH = 11.0  # inches

    def __init__(self, query_tokens, key_tokens, top, dpi=100):
        n_q, n_k = len(query_tokens), len(key_tokens)
        figure = Figure(figsize=(self.WIDTH, max(4.2, 1.6 + 0.2 * n_q)), dpi=dpi)  # rows stay readable
        self.heat, self.bar_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        self.image = self.heat.imshow(np.zeros((n_q, n_k)), cmap="viridis", vmin=0.0, vmax=top, aspect="auto")
        figure.colorbar(self.image, ax=self.heat, label="weight")
        self.heat.set_xticks(range(n_k), key_tokens, rotation=60, ha="right")
        self.heat.set_yticks(range(n_q), query_tokens)
        self.heat.set(xlabel="key token (attended to)", ylabel="query token (attending)")
        self.outline = self.heat.add_patch(
            Rectangle((-0.5, -0.5), n_k, 1.0, fill=False, edgecolor="red", linewidth=2.0))
        self.bars = self.bar_axes.bar(range(n_k), np.zeros(n_k), color="tab:blue")
        self.bar_axes.set_xticks(range(n_k), key_tokens, rotation=60, ha="right")
        self.bar_axes.set(xlim=(-0.5, n_k - 0.5), ylim=(0.0, top), xlabel="key token (attended to)",
                          ylabel="weight")
        for ax in (self.heat, self.bar_axes):
            ax.set_title("Title")  # one line, as every frame's: the layout leaves it room
        figure.tight_layout()
        self.live = LiveFigure(figure, (self.heat, self.bar_axes))

    @property
    def figure(self):
        return self.live.figure

    def png(self, view, title):
        """PNG bytes of `view` under `title`."""
        self.set_frame(view, title)
        return self.live.png()

    def set_frame(self, view, title):
        """The weights, the query's outline and bars, and both titles of `view` (nothing drawn)."""
        self.image.set_data(view.weights)
        self.outline.set_y(view.query - 0.5)
        for bar, weight in zip(self.bars, view.row):
            bar.set_height(weight)
        self.heat.set_title(title)
        self.bar_axes.set_title(f"query {view.first + view.query}: '{view.query_tokens[view.query]}' "
                                f"(weights sum to {view.row.sum():.2f})")


def _checked(view, values):
    """`view`, once its weights are known to fit its tokens and query; else a ValueError naming view_fn."""
    shape = np.shape(view.weights)
    expected = (len(view.query_tokens), len(view.key_tokens))
    if shape != expected:
        raise ValueError(f"view_fn{values} returned weights of shape {shape} for {expected[0]} query and "
                         f"{expected[1]} key tokens; they must have shape {expected}")
    if not 0 <= view.query < expected[0]:
        raise ValueError(f"view_fn{values} returned query {view.query}; it must be in 0 .. {expected[0] - 1}")
    return view


def _layout(view, vmax):
    """What an AttentionPicture is built for: the tokens on both axes and the top of the colour scale."""
    return (tuple(map(str, view.query_tokens)), tuple(map(str, view.key_tokens)),
            vmax if view.top is None else view.top)


def _shown(path):
    """`path` as a reader should see it: relative to the data cache's folder or the working one, never
    the absolute path of the machine that ran the notebook."""
    from helpers.data import cache_dir

    path = Path(path).resolve()
    for root in (cache_dir().resolve().parent, Path.cwd().resolve()):
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return f"…/{path.parent.name}/{path.name}"


def _save_button(controls, save_as, save_dir, write):
    """A "save PNG" button (class hosa-save) and a label that shows where it saved.

    write(path, values): draws the picture shown for the controls' values to `path`.
    save_dir: default `helpers.data.cache_dir()`/figures.
    """
    if save_dir is None:
        from helpers.data import cache_dir
        save_dir = cache_dir() / "figures"
    save_dir = Path(save_dir)
    button = widgets.Button(description="save PNG", tooltip=f"save the picture to {_shown(save_dir)}/")
    button.add_class("hosa-save")
    saved = widgets.Label(value="")

    def save(_):
        values = {name: control.value for name, control in controls.items()}
        suffix = "_".join(f"{name}{value}" for name, value in values.items() if not isinstance(value, str))
        path = save_dir / f"{save_as}_{suffix}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, values)
        saved.value = f"saved {_shown(path)}"

    button.on_click(save)
    return widgets.HBox([button, saved])


def _with_save_row(panel, row):
    """The panel with `row` just above its picture."""
    panel.children = (*panel.children[:-2], row, *panel.children[-2:])
    return panel


def _still_keys(controls, stills):
    """Frame keys for `stills`: each a dict of control values, the controls it leaves out at their start."""
    if stills is None or isinstance(stills, dict) or len(stills) == 0:
        raise ValueError(f"stills must be a non-empty list of dicts of control values; got {stills!r}")
    keys = []
    for i, still in enumerate(stills):
        unknown = set(still) - set(controls)
        if unknown:
            raise ValueError(f"stills[{i}] names {sorted(unknown)}, which are not controls of this "
                             f"explorer; its controls are {list(controls)}")
        keys.append(tuple((name, still.get(name, control.value)) for name, control in controls.items()))
    return keys


def _stacked(pngs):
    """One PNG of the frames `pngs` one below the other (white where one is narrower), small enough to commit."""
    frames = [png_pixels(png)[..., :3] for png in pngs]
    width = max(frame.shape[1] for frame in frames)
    rows = [np.pad(frame, ((0, 0), (0, width - frame.shape[1]), (0, 0)), constant_values=255) for frame in frames]
    buffer = BytesIO()
    PILImage.fromarray(np.concatenate(rows)).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _controlled(draw, controls, stills):
    """An `interactive` (class hosa-explorer) over `controls` whose picture is an `Image` widget.

    draw(key) -> (PNG bytes, result) for key = tuple(values.items()), the
    controls' values; its frames are kept and the likely next ones drawn
    ahead (`panel.frames`, a `Frames`). The bytes go to the Image (class
    hosa-picture), which the browser swaps in place (no output cleared, no
    flicker), the result to `.result`. The `interactive`'s own output stays
    below for error messages. Each control gets the class hosa-<name>.
    stills: the static companion, shown at once (`panel.still`, its PNG).
    """
    keys = _still_keys(controls, stills)
    picture = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
    picture.add_class("hosa-picture")
    for name, control in controls.items():
        control.add_class(f"hosa-{name}")
        control.style = {"description_width": "initial"}
    frames, before = Frames(draw), {}

    def show(**values):
        picture.value, result = frames.get(tuple(values.items()))
        frames.ahead(_next_keys(controls, values, before.get("values")))
        before["values"] = values
        return result

    panel = widgets.interactive(show, **controls)
    panel.add_class("hosa-explorer")
    panel.children = (*panel.children[:-1], picture, panel.out)
    panel.frames = frames
    panel.still = _stacked([frames.get(key)[0] for key in keys])
    display(Image(data=panel.still, format="png"))
    return panel


def figure_explorer(build, *, stills, figsize=(11.0, 4.5), save_as=None, save_dir=None, **controls):
    """An `interactive` over a picture of your own, drawn once and changed in place as the controls move.

    build(figure): draws into `figure` (a matplotlib `Figure`, figsize
    inches) everything the controls do not change (Axes, labels, fixed
    limits, colour bars) and the artists they do, and returns
    update(**values), which sets those artists for the controls' values
    (`set_data`, `set_height`, `set_title`, ...) and returns what becomes the
    panel's `.result`. update must not change limits or ticks: each move
    repaints only the insides and titles of the figure's Axes (colour bars
    excepted; figure-level artists such as `suptitle` are drawn once). It
    must depend on the values only: frames are kept, and the likely next
    ones are drawn ahead, in a background thread. stills: the static
    companion, a list of dicts of control values (a control left out stays
    at its start), drawn one below the other. controls: name -> ipywidgets
    control (each gets the CSS class `hosa-<name>`, a stable hook for
    browser tests). save_as, save_dir: a "save PNG" button, as in `explorer`.
    """
    figure = Figure(figsize=figsize)
    update = build(figure)
    live = LiveFigure(figure, [ax for ax in figure.axes if ax.get_label() != "<colorbar>"])

    def draw(key):
        with live.lock:
            result = update(**dict(key))
            return live.png(), result

    panel = _controlled(draw, controls, stills)
    if save_as is None:
        return panel

    def write(path, values):
        with live.lock:
            update(**values)
            figure.savefig(path, dpi=120)

    return _with_save_row(panel, _save_button(controls, save_as, save_dir, write))


def explorer(view_fn, title_fn, *, stills, save_as=None, save_dir=None, vmax=1.0, **controls):
    """An `interactive` that shows `view_fn(**values)` each time a control moves.

    view_fn: returns the `View` to draw for the controls' current values
    (weights (n_q, n_k), n_q query and n_k key tokens); title_fn: returns
    the heatmap's title for the same values. Both must depend on the values
    only (index what was computed before): frames are kept, and the likely
    next ones are drawn ahead, in a background thread.
    stills: the static companion, a list of dicts of control values (a
    control left out stays at its start), drawn one below the other.
    save_as: a file stem; given, a "save PNG" button (class hosa-save) writes
    the picture shown to `save_dir`/<save_as>_<name><value>_....png and shows
    the path (save_dir default: `helpers.data.cache_dir()`/figures, data/figures).
    vmax: the top of the colour scale and of the bars, unless a View sets its own `top`.
    controls: name -> ipywidgets control (each gets the CSS class
    `hosa-<name>`, a stable hook for browser tests).
    """
    if isinstance(vmax, bool) or not isinstance(vmax, (int, float, np.number)) or not 0 < vmax < math.inf:
        raise ValueError(f"vmax must be a positive number (the top of the colour scale); got {vmax!r}")
    pictures, shelf = Recent(8), threading.Lock()  # a picture is about 7 MB

    def picture_for(layout):
        with shelf:
            picture = pictures.get(layout)
        if picture is None:
            built = AttentionPicture(*layout)
            with shelf:
                picture = pictures.get(layout) or built
                pictures.put(layout, picture)
        return picture

    def draw(key):
        values = dict(key)
        view = _checked(view_fn(**values), values)
        picture = picture_for(_layout(view, vmax))
        with picture.live.lock:
            return picture.png(view, title_fn(**values)), view

    panel = _controlled(draw, controls, stills)
    if save_as is None:
        return panel

    def write(path, values):
        picture = AttentionPicture(*_layout(panel.result, vmax), dpi=120)
        picture.set_frame(panel.result, title_fn(**values))
        picture.figure.savefig(path)

    return _with_save_row(panel, _save_button(controls, save_as, save_dir, write))


def _options(dropdown):
    return [option[1] if isinstance(option, tuple) else option for option in dropdown.options]


def _position(control, value):
    """Where `value` sits on the control: itself on a slider, its option's index on a dropdown."""
    return _options(control).index(value) if isinstance(control, widgets.Dropdown) else value


def _steps(control, value):
    """[one step up, one step down] from `value` on a slider, or the neighbouring options (those that exist).

    Other controls have no neighbours: their next frames are drawn when asked for.
    """
    if isinstance(control, widgets.Dropdown):
        options = _options(control)
        i = options.index(value)
        return [options[j] for j in (i + 1, i - 1) if 0 <= j < len(options)]
    if not all(isinstance(getattr(control, name, None), (int, float)) for name in ("min", "max", "step")):
        return []  # a checkbox, a toggle, ...: nothing to draw ahead
    up, down = value + control.step, value - control.step
    if isinstance(value, float):  # as the browser will send them: 0.7 + 0.1 is 0.7999999999999999
        up, down = round(up, 10), round(down, 10)
    return [v for v in (up, down) if control.min <= v <= control.max]


def _next_keys(controls, values, before):
    """Frame keys one step from `values` on each control, the likeliest first: where a student goes next.

    before: the values shown before these. The control that moved, in the
    direction it moved, comes first; then one step either way on the others.
    """
    keys = []
    for name, control in controls.items():
        steps = [tuple({**values, name: value}.items()) for value in _steps(control, values[name])]
        if before is not None and before[name] != values[name]:
            went_up = _position(control, values[name]) > _position(control, before[name])
            keys[:0] = steps if went_up else steps[::-1]
        else:
            keys += steps
    return keys


def _index_slider(name, size):
    """A slider over the indices 0 .. size - 1 that redraws when released."""
    return widgets.IntSlider(value=0, min=0, max=size - 1, step=1, description=name,
                             continuous_update=False)


def _axis_control(name, size, labels):
    """The control of an axis of `size` entries: a slider over its indices, or a dropdown of its `labels`."""
    if labels is None:
        return _index_slider(name, size)
    if len(labels) != size:
        raise ValueError(f"labels[{name!r}] must name the {size} entries of the {name} axis; "
                         f"got {len(labels)} labels")
    return widgets.Dropdown(options=[(str(label), i) for i, label in enumerate(labels)], value=0,
                            description=name)


def _axis_controls(names, sizes, labels):
    """One control per named axis; labels: {name: entry labels} for the axes shown as dropdowns."""
    labels = {} if labels is None else labels
    unknown = set(labels) - set(names)
    if unknown:
        raise ValueError(f"labels names {sorted(unknown)}, which are not axes in names={tuple(names)}")
    return {name: _axis_control(name, size, labels.get(name)) for name, size in zip(names, sizes)}


def _where(controls, index):
    """'layer 1, head 3' or 'mask causal': each axis by its label where it has one."""
    def shown(name):
        control = controls[name]
        if isinstance(control, widgets.Dropdown):
            return next(label for label, i in control.options if i == index[name])
        return index[name]
    return ", ".join(f"{name} {shown(name)}" for name in index)


def temperature_explorer(q, k, tokens, temperature=1.0, query=0, stills=(0.25, 1.0, 4.0)):
    """Sliders for temperature T and query token over softmax(Q K^T / (T sqrt(d_k))).

    q: (n, d_k), k: (n, d_k), tokens: n labels; temperature, query: where
    the sliders start. The scores are computed once; each temperature's
    weights once (cached), whatever the query slider does. stills: the
    temperatures of the static companion, shown at the starting query.
    """
    scores = attention_scores(q, k)
    if scores.ndim != 2:
        raise ValueError(f"q and k must be 2-D (n, d_k); got scores of shape {scores.shape}")
    if len(tokens) != scores.shape[0] or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"tokens must name the {scores.shape[0]} positions of q and k; "
                         f"got {len(tokens)} tokens for scores {scores.shape}")
    tokens = tuple(tokens)
    query_slider = _index_slider("query", len(tokens))
    query_slider.value = query

    @lru_cache(maxsize=128)
    def weights_at(temperature):
        return softmax(scores / temperature)

    return explorer(
        lambda temperature, query: View(weights_at(temperature), query, tokens, tokens),
        lambda temperature, query: f"softmax(QKᵀ / ({temperature:g}·√d_k))",
        stills=[{"temperature": t} for t in stills],
        temperature=widgets.FloatSlider(value=temperature, min=0.1, max=5.0, step=0.1,
                                        description="temperature", continuous_update=False),
        query=query_slider,
    )


def weights_explorer(weights, tokens, names, *, stills, key_tokens=None, labels=None,
                     title="Attention weights"):
    """Sliders over precomputed weights (..., n_q, n_k): one per leading axis, plus query.

    weights: array whose leading axes are named by `names` (for example
    ("layer", "head")); tokens: n_q query labels; key_tokens: n_k labels
    (default: `tokens`); labels: {name: one label per entry} for an axis
    chosen from a dropdown (e.g. {"weights": ["random", "trained"]}) rather
    than a slider. stills: the static companion (see `explorer`), indices
    by name. Moving a slider only indexes `weights`.
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
    controls = _axis_controls(names, weights.shape[:-2], labels)
    controls["query"] = _index_slider("query", n_q)

    def view(query, **index):
        return View(weights[tuple(index[name] for name in names)], query, tokens, key_tokens)

    def title_of(query, **index):
        return f"{title} ({_where(controls, index)})" if index else title

    return explorer(view, title_of, stills=stills, **controls)


def review_explorer(weights, tokens, names=("layer", "head"), *, stills, key_tokens=None, labels=None,
                    window=20, text="review", title="Attention", save_as=None, save_dir=None):
    """Sliders over the attention of several texts of different lengths, a window at a time.

    weights: one array per text r, shape (*leading, n_r, m_r), its leading
    axes named by `names` (the same sizes for every text); tokens: one list
    of n_r query words per text; key_tokens: one list of m_r key words per
    text (default: `tokens`, self-attention, m_r = n_r). Sliders: `text`
    (which text; "review" unless named otherwise), one per name (a dropdown
    where `labels` names its entries, as in `weights_explorer`), and query
    (0 to n_r - 1). The picture shows `window` queries around the query
    slider's and, for self-attention, the same tokens as keys (for
    cross-attention, every key), so it stays readable for long texts; the
    bar chart's weights sum to the share of the query's attention that
    falls inside the window. The window moves in steps of half its width,
    placed so that a quarter of it (rounded down) or more lies on each side of the
    query (except at the ends of the text): moving the query, layer or head
    inside one window keeps its tokens, and the picture answers at once.
    Weights spread over hundreds of keys are small, so the colour scale runs
    up to the largest weight of that window in any layer and head (the same
    colour is the same weight across layers and heads).
    stills: the static companion (see `explorer`); save_as, save_dir: see `explorer`.
    """
    weights = [np.asarray(w) for w in weights]
    if not weights or len(weights) != len(tokens):
        raise ValueError(f"weights and tokens must hold one entry per text: got {len(weights)} "
                         f"weight arrays and {len(tokens)} token lists")
    crossed = key_tokens is not None
    key_tokens = tokens if key_tokens is None else key_tokens
    if len(key_tokens) != len(tokens):
        raise ValueError(f"key_tokens must hold one list per text: got {len(key_tokens)} for {len(tokens)} texts")
    leading = weights[0].shape[:-2]
    for r, (w, words, keys) in enumerate(zip(weights, tokens, key_tokens)):
        n, m = len(words), len(keys)
        if w.shape != (*leading, n, m):
            raise ValueError(f"weights[{r}] must have shape {(*leading, n, m)} (one axis per name in "
                             f"{tuple(names)}, then tokens[{r}]'s {n} query and {m} key words); "
                             f"got shape {w.shape}")
    if len(leading) != len(names):
        raise ValueError(f"weights must have one axis per name in {tuple(names)} plus (n, n); "
                         f"got shape {weights[0].shape}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int; got {window!r}")
    tokens = [tuple(str(t) for t in words) for words in tokens]
    key_tokens = [tuple(str(t) for t in words) for words in key_tokens]
    controls = {text: _index_slider(text, len(weights))}
    controls.update(_axis_controls(names, leading, labels))
    controls["query"] = _index_slider("query", len(tokens[0]))

    def fit_query(change):
        controls["query"].max = len(tokens[change["new"]]) - 1

    controls[text].observe(fit_query, names="value")

    step = max(1, window // 2)

    def bounds(r, query):
        n = len(tokens[r])
        start = step * math.floor((query - (window - 1) / 2) / step + 0.5)
        start = min(max(0, start), max(0, n - window))
        return start, min(n, start + window)

    def keys_of(r, start, end):
        return slice(0, len(key_tokens[r])) if crossed else slice(start, end)

    @lru_cache(maxsize=1024)
    def top_of(r, start, end):
        return max(float(weights[r][..., start:end, keys_of(r, start, end)].max()), 1e-9)

    def view(query, **index):
        r = index.pop(text)
        query = min(query, len(tokens[r]) - 1)
        start, end = bounds(r, query)
        keys = keys_of(r, start, end)
        matrix = weights[r][tuple(index[name] for name in names)][start:end, keys]
        return View(matrix, query - start, tokens[r][start:end], key_tokens[r][keys], first=start,
                    top=top_of(r, start, end))

    def title_of(query, **index):
        r = index.pop(text)
        start, end = bounds(r, min(query, len(tokens[r]) - 1))
        parts = [f"{text} {r}", *([_where(controls, index)] if index else [])]
        if end - start < len(tokens[r]):  # a window of a longer text says where it is
            parts.append(f"tokens {start}-{end - 1} of {len(tokens[r])}")
        return f"{title}: " + ", ".join(parts)

    return explorer(view, title_of, stills=stills, save_as=save_as, save_dir=save_dir, **controls)
