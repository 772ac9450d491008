"""Pictures and explorers for text generation (notebook 10).

    sampler_figure(...)        the next-token distribution under several samplers, side by side
    sampling_explorer(...)     prompt box, temperature / top-k / top-p / seed sliders, a "generate" button
    generation_explorer(...)   step through one generation: the newest token's attention, its top-10 next tokens

Both explorers are `helpers.widgets.figure_explorer`s: the picture is drawn
once and then only its insides change; tokens that change with the controls
are text drawn inside the Axes, never tick labels. Each shows its static
companion (`stills`) above its controls. The step-through explorer only
indexes what was computed before; the sampling explorer samples anew for
each setting (a fraction of a second with the KV cache), and its frames are
kept, so a setting seen before comes back at once.
"""
import textwrap
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib import colormaps
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font

from helpers.generation import entropy, next_token_probs
from helpers.tokens import EOT, EOT_ID, token_strings
from helpers.widgets import figure_explorer

__all__ = ["printable", "shown", "sampler_label", "sampler_figure", "sampling_explorer", "generation_explorer"]


@lru_cache(maxsize=None)
def _fonts():
    return [FT2Font(findfont(FontProperties(family=[family]))) for family in ("monospace", "sans-serif")]


@lru_cache(maxsize=4096)
def _drawable(char):
    """Whether the plots' monospace and sans-serif fonts both have a glyph for `char`."""
    return char == "\n" or (char.isprintable() and all(font.get_char_index(ord(char)) for font in _fonts()))


def printable(text):
    """`text` with every character the plots' fonts cannot draw (control bytes, most emoji) as �.

    A model that writes byte tokens can write half a character or a control
    byte; matplotlib would warn about each missing glyph.
    """
    return "".join(char if _drawable(char) else "\ufffd" for char in text)


def shown(token):
    """A token as a reader can see it: newlines as ⏎, a leading space as ·, EOT as <EOT>, undrawable as �."""
    if token == EOT:
        return "<EOT>"
    return printable(token).replace("\n", "⏎").replace(" ", "·")


def sampler_label(greedy=False, temperature=1.0, top_k=None, top_p=None):
    """'greedy', or e.g. 'T 0.7, top-k 40, top-p 0.9' (only the cuts that are on)."""
    if greedy:
        return "greedy"
    parts = [f"T {temperature:g}"]
    if top_k is not None:
        parts.append(f"top-k {top_k}")
    if top_p is not None and top_p < 1:
        parts.append(f"top-p {top_p:g}")
    return ", ".join(parts)


def _sampler_probs(logits, setting):
    if setting.get("greedy"):
        probs = np.zeros(len(logits))
        probs[int(np.argmax(logits))] = 1.0
        return probs
    return next_token_probs(logits, setting.get("temperature", 1.0), setting.get("top_k"), setting.get("top_p"))


def sampler_figure(figure, logits, tokenizer, settings, top=15):
    """Draw, side by side, the next-token distribution each sampler of `settings` draws from.

    figure: a matplotlib Figure; logits: (vocab,) for one prompt; settings:
    dicts of `next_token_probs` arguments (or {"greedy": True}). Each panel
    shows the `top` most likely tokens at T = 1 (grey) and the sampler's
    probabilities (blue), its entropy and how many tokens it keeps.
    Returns the sampler distributions, (len(settings), vocab).
    """
    raw = next_token_probs(logits)
    ranked = np.argsort(-raw, kind="stable")[:top]
    labels = [shown(t) for t in token_strings(tokenizer, ranked)]
    distributions = np.array([_sampler_probs(logits, setting) for setting in settings])
    sampled = [d for d, setting in zip(distributions, settings) if not setting.get("greedy")]
    right = min(1.0, 1.15 * max([raw[ranked].max()] + [d[ranked].max() for d in sampled]))
    axes = np.atleast_1d(figure.subplots(1, len(settings), sharey=True))
    y = np.arange(top)
    for ax, setting, probs in zip(axes, settings, distributions):
        ax.barh(y + 0.2, raw[ranked], height=0.4, color="0.75", label="softmax (T 1)")
        ax.barh(y - 0.2, probs[ranked], height=0.4, color="tab:blue", label="sampler")
        if probs[ranked].max() > right:  # greedy: one token with probability 1, past the shared scale
            ax.text(0.97 * right, -0.2, "p = 1 →", ha="right", va="center", color="white", fontsize=9)
        kept = int(np.sum(probs > 0))
        ax.set(xlim=(0, right), xlabel="probability of the next token",
               title=f"{sampler_label(**setting)}\n{kept:,} token{'s' * (kept != 1)} kept, "
                     f"entropy {entropy(probs):.2f} nats")
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("next token (most likely first; · is a space)")
    axes[-1].legend(loc="lower right")
    return distributions


def sampling_explorer(decoder, tokenizer, prompt, *, stills, new_tokens=40, top=10, width=110):
    """A prompt box, sliders for temperature, top_k (0: off), top_p and seed, and a "generate" button.

    decoder: a `helpers.generation.Decoder`; tokenizer: its BPE tokenizer;
    prompt: the starting text (a review opens with EOT, added here). Each
    setting samples `new_tokens` tokens with the KV cache; the picture shows
    the first next-token distribution under the setting (top `top` tokens)
    and the text sampled. "generate" draws another sample: the next seed.
    stills: the static companion, a list of dicts of control values.
    `.result` holds (sampled token ids, the sampler's first distribution).
    """
    def ids_of(text):
        return [EOT_ID, *tokenizer.encode(text).ids]

    def build(figure):
        bars_ax, text_ax = figure.subplots(2, 1, gridspec_kw={"height_ratios": [1.6, 0.6]})
        y = np.arange(top)
        raw_bars = bars_ax.barh(y + 0.2, np.zeros(top), height=0.4, color="0.75", label="softmax (T 1)")
        bars = bars_ax.barh(y - 0.2, np.zeros(top), height=0.4, color="tab:blue", label="this sampler")
        labels = [bars_ax.text(0, i, "", va="center", fontsize=9, family="monospace") for i in y]
        bars_ax.set_yticks(y, [str(i + 1) for i in y])
        bars_ax.set(xlim=(0, 1), ylim=(top - 0.5, -0.5), xlabel="probability of the first new token (· is a space)",
                    ylabel="rank at T 1")
        bars_ax.legend(loc="lower right")
        text_ax.set_axis_off()
        text = text_ax.text(0, 1, "", va="top", ha="left", family="monospace", fontsize=9, clip_on=True,
                            transform=text_ax.transAxes)
        bars_ax.set_title("Title")
        text_ax.set_title("Title")
        figure.tight_layout()

        def update(prompt, temperature, top_k, top_p, seed):
            setting = dict(temperature=temperature, top_k=top_k or None, top_p=top_p)
            ids = ids_of(prompt)
            sample = decoder.generate(ids, new_tokens, seed=seed, **setting)
            raw, probs = next_token_probs(sample.logits[0]), next_token_probs(sample.logits[0], **setting)
            ranked = np.argsort(-raw, kind="stable")[:top]
            for bar, raw_bar, label, token, word in zip(bars, raw_bars, labels, ranked,
                                                       token_strings(tokenizer, ranked)):
                bar.set_width(probs[token])
                raw_bar.set_width(raw[token])
                label.set_position((min(max(probs[token], raw[token]) + 0.01, 0.8), label.get_position()[1]))
                label.set_text(repr(shown(word)))
            kept = int(np.sum(probs > 0))
            bars_ax.set_title(f"Next token after the prompt, {sampler_label(**setting)}: "
                              f"{kept:,} token{'s' * (kept != 1)} kept, entropy {entropy(probs):.2f} nats")
            written = tokenizer.decode([int(t) for t in sample.tokens], skip_special_tokens=False)
            written = written.replace(EOT, "<EOT>").replace("\n", " ⏎ ")  # one paragraph: the panel keeps its size
            text.set_text(textwrap.fill(printable(f"{prompt}[{written}]"), width))
            text_ax.set_title(f"seed {seed}: {new_tokens} new tokens, in brackets")
            return sample.tokens, probs

        return update

    controls = dict(
        prompt=widgets.Text(value=prompt, description="prompt", continuous_update=False,
                            layout=widgets.Layout(width="60%")),
        temperature=widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.1, description="temperature",
                                        continuous_update=False),
        top_k=widgets.IntSlider(value=0, min=0, max=100, step=1, description="top_k (0 = off)",
                                continuous_update=False),
        top_p=widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="top_p",
                                  continuous_update=False),
        seed=widgets.IntSlider(value=0, min=0, max=99, step=1, description="seed", continuous_update=False),
    )
    panel = figure_explorer(build, stills=stills, figsize=(11.0, 5.6), **controls)
    button = widgets.Button(description="generate", tooltip="sample again: the next seed")
    button.add_class("hosa-generate")

    def again(_):
        seed = controls["seed"]
        seed.value = seed.min if seed.value >= seed.max else seed.value + 1

    button.on_click(again)
    panel.children = (*panel.children[:-2], button, *panel.children[-2:])
    return panel


def _layout(pieces, columns):
    """(words, places): each token's text without its leading space, and its (column, line).

    pieces: the tokens as `token_strings` gives them. A token that starts with
    a space starts a new word one column on; other pieces abut the one before.
    Lines wrap at `columns` characters; a newline token ends its line.
    """
    words, places, column, line = [], [], 0, 0
    for piece in pieces:
        word = shown(piece.lstrip(" ")) if piece.strip(" ") else shown(piece)
        gap = 1 if piece.startswith(" ") and column > 0 and word != shown(piece) else 0
        if column + gap + len(word) > columns and column > 0:
            column, line, gap = 0, line + 1, 0
        words.append(word)
        places.append((column + gap, line))
        column += gap + len(word)
        if "\n" in piece:
            column, line = 0, line + 1
    return words, places


def generation_explorer(tokens, weights, probs, prompt_length, tokenizer, *, stills, top=10, columns=88):
    """Step through one generation: the newest token's causal attention and its top next tokens.

    tokens: the ids of prompt + generated text (n,); weights: (num_layers,
    num_heads, n, n) and probs: (n, vocab) from
    `helpers.generation.attention_and_probs` on them (one pass: by causality,
    row i is what the model computed at the step that read token i).
    prompt_length: tokens of the prompt. Sliders: step (0 = the step that
    wrote the first new token), layer, head. Left: the text so far, each token
    shaded by the attention the newest one (outlined in red) pays it, scaled
    to the row's largest weight; right: its `top` most likely next tokens,
    the one written in orange. stills: the static companion.
    `.result` holds the attention row drawn, (newest + 1,).
    """
    tokens = np.asarray(tokens)
    weights, probs = np.asarray(weights), np.asarray(probs)
    n = len(tokens)
    if weights.ndim != 4 or weights.shape[2:] != (n, n) or probs.shape[0] != n:
        raise ValueError(f"weights must be (num_layers, num_heads, n, n) and probs (n, vocab) for the n = {n} "
                         f"tokens; got {weights.shape} and {probs.shape}")
    if not 1 <= prompt_length < n:
        raise ValueError(f"prompt_length must lie in [1, n = {n}); got {prompt_length}")
    words, places = _layout(token_strings(tokenizer, tokens), columns)
    lines = max(places[-1][1] + 1, 6)
    top_ids = np.argsort(-probs, axis=1, kind="stable")[:, :top]
    top_words = [[repr(shown(t)) for t in token_strings(tokenizer, row)] for row in top_ids]
    cmap = colormaps["Blues"]

    def build(figure):
        text_ax, bar_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2.6, 1]})
        text_ax.set(xlim=(-0.5, columns), ylim=(lines - 0.5, -0.7), xticks=[], yticks=[],
                    xlabel="the text so far: shade = attention of the newest token (red) / its largest weight",
                    ylabel="line")
        boxes = [text_ax.text(column, line, word, va="center", ha="left", family="monospace",
                              bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none"))
                 for word, (column, line) in zip(words, places)]
        y = np.arange(top)
        bars = bar_ax.barh(y, np.zeros(top), color="tab:blue")
        labels = [bar_ax.text(0.01, i, "", va="center", fontsize=9, family="monospace") for i in y]
        bar_ax.set_yticks(y, [str(i + 1) for i in y])
        bar_ax.set(xlim=(0, 1), ylim=(top - 0.5, -0.5), xlabel="probability", ylabel="rank of next token")
        text_ax.set_title("Title")
        bar_ax.set_title("Title")
        figure.tight_layout()
        width = text_ax.get_position().width * figure.get_figwidth() * 72  # points
        for box in boxes:  # a monospace character is about 0.6 em wide: one column each
            box.set_fontsize(min(10.0, width / (columns + 0.5) / 0.6))

        def update(step, layer, head):
            newest = prompt_length - 1 + step
            row = weights[layer, head, newest, :newest + 1]
            shade = row / max(row.max(), 1e-9)
            for i, box in enumerate(boxes):
                box.set_visible(i <= newest)
                if i <= newest:
                    patch = box.get_bbox_patch()
                    patch.set_facecolor(cmap(0.85 * shade[i]))
                    patch.set_edgecolor("red" if i == newest else "none")
                    box.set_color("white" if shade[i] > 0.6 else "black")
            chosen = tokens[newest + 1]
            for bar, label, token, word, p in zip(bars, labels, top_ids[newest], top_words[newest],
                                                  probs[newest, top_ids[newest]]):
                bar.set_width(p)
                bar.set_color("tab:orange" if token == chosen else "tab:blue")
                label.set_position((min(p + 0.01, 0.75), label.get_position()[1]))
                label.set_text(word)
            text_ax.set_title(f"step {step}: token {newest} {shown(token_strings(tokenizer, [tokens[newest]])[0])!r} "
                              f"attends (layer {layer}, head {head})")
            bar_ax.set_title(f"next token (wrote {shown(token_strings(tokenizer, [chosen])[0])!r})")
            return row

        return update

    height = max(4.0, 1.6 + 0.28 * max(lines, top))
    return figure_explorer(
        build, stills=stills, figsize=(12.0, height),
        step=widgets.IntSlider(value=0, min=0, max=n - prompt_length - 1, step=1, description="step",
                               continuous_update=False),
        layer=widgets.IntSlider(value=0, min=0, max=weights.shape[0] - 1, step=1, description="layer",
                                continuous_update=False),
        head=widgets.IntSlider(value=0, min=0, max=weights.shape[1] - 1, step=1, description="head",
                               continuous_update=False),
    )
