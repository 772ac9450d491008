"""Self-checks for the exercises of notebook 11_pretrained_attention.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _report


def _mean_pool_problem(fn):
    tokens = _RNG.normal(size=(6, 4))
    mask = np.array([True, True, True, True, False, False])
    got, problem = _call(fn, tokens.copy(), mask.copy())
    if problem:
        return problem
    mean = tokens[mask].mean(0)
    want = mean / np.linalg.norm(mean)
    if got.shape != (4,):
        return f"return one vector of size d = 4, shape (4,); got shape {got.shape}."
    everything = tokens.mean(0)
    if np.allclose(got, everything / np.linalg.norm(everything)) or np.allclose(got, everything):
        return "the padding tokens were averaged in: take the mean over the positions where mask is True only."
    if np.allclose(got, mean):
        return "the mean is right; now scale it to length 1 (divide by its Euclidean norm)."
    if np.allclose(got, tokens[mask].sum(0) / np.linalg.norm(tokens[mask].sum(0))) and not np.allclose(got, want):
        return "sum and mean differ only by a factor, which the normalisation removes; check the mask."
    if not np.allclose(got, want, atol=1e-9):
        return f"expected {np.round(want, 4).tolist()}, got {np.round(got, 4).tolist()}."
    return None


def check_11_mean_pool(your_mean_pool):
    """Exercise 11.1: your_mean_pool(tokens (n, d), mask (n,)) -> the unit-length mean of the real tokens."""
    return _report(_mean_pool_problem(your_mean_pool),
                   "the mean over real tokens, scaled to length 1: the sentence embedding of sentence-transformers.")


def _previous_problem(fn):
    scores = _RNG.normal(size=(5, 5)) * 2
    attention = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    got, problem = _call(fn, attention.copy())
    if problem:
        return problem
    if got.shape != ():
        return f"return one number, the average; got shape {got.shape}."
    want = np.diagonal(attention, offset=-1).mean()
    if np.isclose(got, np.diagonal(attention, offset=1).mean()):
        return ("that is the attention to the *next* token, a[i, i+1]: the previous token of query i is key "
                "i - 1, below the diagonal.")
    if np.isclose(got, np.diagonal(attention, offset=-1).sum() / len(attention)):
        return ("query 0 has no previous token: average over the queries 1 .. n-1 (n - 1 of them), not all n.")
    if not np.isclose(got, want):
        return f"expected {want:.4f} (the mean of a[i, i-1] over i = 1 .. n-1), got {float(got):.4f}."
    return None


def check_11_previous_token(your_previous_share):
    """Exercise 11.2: your_previous_share(attention (n, n)) -> the mean over i >= 1 of attention[i, i-1]."""
    return _report(_previous_problem(your_previous_share),
                   "the average attention to the previous token, one of Clark et al.'s statistics.")
