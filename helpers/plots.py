"""Pictures of attention: heatmaps with tokens on both axes."""
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["attention_heatmap", "show_attention"]


def _check_tokens(name, tokens, length, axis_name):
    if tokens is None:
        return [str(i) for i in range(length)]
    tokens = [str(t) for t in tokens]
    if len(tokens) != length:
        raise ValueError(
            f"{name} must name every {axis_name} of weights: weights have {length}, "
            f"{name} has {len(tokens)} entries"
        )
    return tokens


def attention_heatmap(weights, query_tokens=None, key_tokens=None, ax=None,
                      title="Attention weights", vmin=0.0, vmax=None, highlight_query=None,
                      annotate=None, label="weight", cmap="viridis",
                      xlabel="key token (attended to)", ylabel="query token (attending)"):
    """Draw a (n_q, n_k) attention matrix with tokens on both axes.

    weights: (n_q, n_k); rows are queries (y axis), columns keys (x axis).
    query_tokens: n_q labels, key_tokens: n_k labels (default: positions).
    vmin, vmax: colour range (default 0 to the largest entry); label names
    the colour bar; xlabel, ylabel name the axes (for other matrices, such
    as scores or embeddings). highlight_query: index of a row to outline.
    annotate: write each value in its cell, in 10 pt (default: at most 12 x 12).
    Returns the matplotlib Axes.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2:
        raise ValueError(f"weights must be 2-D (n_q, n_k); got shape {weights.shape}")
    n_q, n_k = weights.shape
    query_tokens = _check_tokens("query_tokens", query_tokens, n_q, "row (query)")
    key_tokens = _check_tokens("key_tokens", key_tokens, n_k, "column (key)")
    if ax is None:  # at least 7.5 x 4.8 inches: over 650 px wide on screen once cropped, cells large enough for 10 pt numbers
        _, ax = plt.subplots(figsize=(max(7.5, 1.6 + 0.6 * n_k), max(4.8, 1.2 + 0.45 * n_q)))
    if vmax is None:
        vmax = max(weights.max(), vmin + 1e-9)
    image = ax.imshow(weights, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(n_k), key_tokens, rotation=60, ha="right")
    ax.set_yticks(range(n_q), query_tokens)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if annotate is None:
        annotate = n_q <= 12 and n_k <= 12
    if annotate:
        threshold = vmin + 0.6 * (vmax - vmin)
        for i in range(n_q):
            for j in range(n_k):
                ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=10,
                        color="black" if weights[i, j] > threshold else "white")
    if highlight_query is not None:
        ax.add_patch(plt.Rectangle((-0.5, highlight_query - 0.5), n_k, 1.0,
                                   fill=False, edgecolor="red", linewidth=2.0))
    ax.figure.colorbar(image, ax=ax, label=label)
    return ax


def show_attention(weights, tokens, title="Attention weights", **options):
    """One heatmap of self-attention weights (n, n) over `tokens`, shown at once.

    options: passed to `attention_heatmap` (vmin, label, xlabel, ...).
    """
    ax = attention_heatmap(weights, tokens, tokens, title=title, **options)
    ax.figure.tight_layout()
    plt.show()
