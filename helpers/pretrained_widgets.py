"""Pictures of a pretrained encoder: all heads at once (a model view) and a semantic search box.

Both are `helpers.widgets.figure_explorer`s: drawn once, changed in place,
with a static companion and a "save PNG" button; offline, nothing but
ipywidgets and matplotlib.
"""
import textwrap

import ipywidgets as widgets
import numpy as np

from helpers.pretrained import embed
from helpers.widgets import figure_explorer

__all__ = ["model_view", "search_explorer"]


def model_view(attention, tokens, *, stills, save_as=None, save_dir=None):
    """Every head of every layer as a thumbnail, for one sentence at a time (a sentence slider).

    attention: one array (layers, heads, n_r, n_r) per sentence r; tokens: one
    list of n_r tokens per sentence. Thumbnail (l, h) is head h's weights
    (queries down, keys across, white = 0, black = 1) in layer l, both
    counted from 0 as on the head view's sliders; each thumbnail fills its
    square whatever the sentence's length. stills: the static
    companion (dicts of sentence indices).
    """
    attention = [np.asarray(a) for a in attention]
    if not attention or len(attention) != len(tokens):
        raise ValueError(f"attention and tokens must hold one entry per sentence; got {len(attention)} "
                         f"and {len(tokens)}")
    layers, heads = attention[0].shape[:2]
    for r, (a, words) in enumerate(zip(attention, tokens)):
        if a.shape != (layers, heads, len(words), len(words)):
            raise ValueError(f"attention[{r}] must be (layers, heads, n, n) = {(layers, heads, len(words), len(words))}"
                             f" for tokens[{r}]'s {len(words)} tokens; got {a.shape}")

    def build(figure):
        grid = figure.subplots(layers, heads, gridspec_kw=dict(wspace=0.08, hspace=0.08, top=0.86, bottom=0.02,
                                                               left=0.06, right=0.99))
        thumbs = []
        for l in range(layers):
            for h in range(heads):
                ax = grid[l, h]
                thumbs.append(ax.imshow(np.zeros((2, 2)), cmap="Greys", vmin=0, vmax=1, extent=(0, 1, 1, 0),
                                        interpolation="nearest"))
                ax.set_xticks([]), ax.set_yticks([])
                if l == 0:
                    ax.set_title(f"head {h}", fontsize=9)
                if h == 0:
                    ax.set_ylabel(f"layer {l}", fontsize=9)
        banner = figure.add_axes((0.06, 0.92, 0.93, 0.06))
        banner.set_axis_off()
        caption = banner.text(0, 0.5, "", va="center", fontsize=10)

        def update(sentence):
            a, n = attention[sentence], len(tokens[sentence])
            for i, thumb in enumerate(thumbs):
                thumb.set_data(a[i // heads, i % heads])  # the extent stays the unit square
            text = " ".join(tokens[sentence])
            caption.set_text(f"sentence {sentence} ({n} tokens): {textwrap.shorten(text, 150, placeholder=' …')}")
            return a

        return update

    return figure_explorer(build, stills=stills, figsize=(13.0, 7.5), save_as=save_as, save_dir=save_dir,
                           sentence=widgets.IntSlider(value=0, min=0, max=len(attention) - 1,
                                                      description="sentence", continuous_update=False))


def search_explorer(model, tokenizer, texts, embeddings, *, stills, k=5, query="a funny film"):
    """A query box: the `k` texts whose embeddings are nearest the query's (cosine), with their similarity.

    texts: the N texts searched; embeddings: (N, d) their unit-length
    embeddings (computed once, `helpers.pretrained.embed`); the query is
    embedded as it is typed (Enter). stills: dicts of queries.
    """
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or len(embeddings) != len(texts) or len(texts) < k:
        raise ValueError(f"embeddings must be (N, d) for the N = {len(texts)} texts (at least k = {k}); "
                         f"got shape {embeddings.shape}")

    def build(figure):
        ax = figure.subplots()
        figure.subplots_adjust(left=0.03, right=0.97, top=0.88, bottom=0.13)
        bars = ax.barh(np.arange(k), np.zeros(k), color="tab:blue", alpha=0.35)
        labels = [ax.text(0.01, i, "", va="center", fontsize=9) for i in range(k)]
        ax.set(xlim=(0, 1), ylim=(k - 0.5, -0.5), yticks=[],
               xlabel="cosine similarity between the query's embedding and the review's")

        def update(query):
            if not query.strip():
                raise ValueError("type a query (a few words) and press Enter")
            q = embed(model, tokenizer, [query])[0]
            similarity = embeddings @ q
            nearest = np.argsort(-similarity)[:k]
            for bar, label, i in zip(bars, labels, nearest):
                bar.set_width(max(float(similarity[i]), 0.0))
                label.set_text(f"{similarity[i]:.2f}  #{i}: {textwrap.shorten(texts[i], 110, placeholder=' …')}")
            ax.set_title(f"the {k} of {len(texts):,} reviews nearest to {query!r}")
            return nearest, similarity[nearest]

        return update

    box = widgets.Text(value=query, description="query", continuous_update=False,
                       layout=widgets.Layout(width="60%"))
    return figure_explorer(build, stills=stills, figsize=(12.0, 3.6), query=box)
