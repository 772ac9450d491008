"""Self-checks for the exercises of notebook 07_imdb_sentiment.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _report


def _masked_mean_problem(fn):
    h = _RNG.normal(size=(3, 5, 4))
    mask = np.array([[True, True, True, False, False],
                     [True, True, True, True, True],
                     [False, False, False, False, False]])
    with np.errstate(all="ignore"):
        got, problem = _call(fn, h, mask)
    if problem:
        return problem
    if got.shape != (3, 4):
        return (f"h is (batch, n, d) = (3, 5, 4), so the pooled vectors are (batch, d) = (3, 4); "
                f"got {got.shape}. Average over the positions, axis=1.")
    counts = mask.sum(axis=1, keepdims=True)
    want = (h * mask[..., None]).sum(axis=1) / np.maximum(counts, 1)
    if np.allclose(got[:2], h[:2].mean(axis=1)):
        return "you averaged the padding positions too: multiply by the mask before summing."
    if np.allclose(got[:2], (h[:2] * mask[:2, :, None]).sum(axis=1) / 5):
        return ("padding is zeroed, but you divided by n = 5 positions: divide by the number of "
                "real tokens of each row, mask.sum(axis=1).")
    if not np.all(np.isfinite(got)):
        return ("the row with no real token gives NaN (0 / 0): divide by max(1, number of real tokens), "
                "so that row pools to zeros.")
    if not np.allclose(got, want, atol=1e-6):
        return "the values differ from sum_i m_i h_i / max(1, sum_i m_i) for each row."
    return None


def check_07_masked_mean(your_masked_mean):
    """Exercise 07.1: your_masked_mean(h, mask) -> (batch, d) mean over the real tokens."""
    return _report(_masked_mean_problem(your_masked_mean),
                   "padding is ignored, each row divides by its own count, and an all-padding row gives zeros.")


def _confident_mistakes_problem(fn):
    p = np.array([0.97, 0.10, 0.55, 0.02, 0.80, 0.40, 0.99, 0.30])
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    # mistakes: 0 (p .97, label 0), 2 (.55, 0), 3 (.02, 1), 5 (.40, 1); confidence |p - 0.5|
    want = np.array([3, 0, 5])
    got, problem = _call(fn, p, labels, 3)
    if problem:
        return problem
    got = got.ravel()
    if len(got) != 3:
        return f"return the indices of the k = 3 most confident mistakes; got {len(got)} values."
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, [6, 3, 0]):
        return ("these are the most confident predictions, right or wrong: keep only the mistakes, "
                "where (p > 0.5) != label.")
    if np.array_equal(got, [0, 2, 5]) or np.array_equal(got, [3, 5, 2]):
        return "sort by confidence |p - 0.5|, not by p itself: a mistake can be confident near 0 too."
    if np.array_equal(got, [2, 5, 0]):
        return "you took the least confident mistakes: sort by |p - 0.5| in decreasing order."
    if np.array_equal(np.sort(got), np.sort(want)):
        return "the right reviews, but list them from the most confident (largest |p - 0.5|) down."
    return (f"the mistakes are reviews 0, 2, 3, 5; the three most confident are {want.tolist()}; "
            f"got {got.tolist()}.")


def check_07_confident_mistakes(your_confident_mistakes):
    """Exercise 07.2: your_confident_mistakes(p, labels, k) -> indices of the k surest mistakes."""
    return _report(_confident_mistakes_problem(your_confident_mistakes),
                   "only mistakes, ranked by |p - 0.5|, most confident first.")


def _token_dropout_problem(fn):
    ids = np.tile(np.arange(2, 42), (200, 1))
    ids[:, 0] = 1      # [UNK]
    ids[:, -8:] = 0    # padding
    rng = np.random.default_rng(0)
    got, problem = _call(fn, ids.copy(), 0.25, rng)
    if problem:
        return problem
    if got.shape != ids.shape:
        return f"keep the shape of token_ids {ids.shape}; got {got.shape}."
    changed = got != ids
    if np.any(got[changed] == 0):
        return "dropped words became 0, which means padding: replace them by the [UNK] id 1."
    if changed[:, -8:].any():
        return "padding (id 0) changed: only real words may be dropped."
    if np.any(got[changed] != 1):
        return "a dropped word must become [UNK] (id 1), nothing else."
    share = changed[:, 1:-8].mean()
    if 0.7 < share < 0.8:
        return f"you dropped {share:.0%} of the words: rate is the share to DROP (0.25), not to keep."
    if not 0.2 < share < 0.3:
        return f"with rate 0.25 about a quarter of the words should become [UNK]; you dropped {share:.0%}."
    return None


def check_07_token_dropout(your_token_dropout):
    """Exercise 07.3: your_token_dropout(token_ids, rate, rng) -> ids with words replaced by [UNK]."""
    return _report(_token_dropout_problem(your_token_dropout),
                   "about `rate` of the words become [UNK]; padding and [UNK] stay.")
