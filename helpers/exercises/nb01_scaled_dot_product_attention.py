"""Self-checks for the exercises of notebook 01_scaled_dot_product_attention.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _reference_softmax, _report


def _softmax_problem(fn):
    x = _RNG.normal(size=(3, 5))
    got, problem = _call(fn, x)
    if problem:
        return problem
    if got.shape != x.shape:
        return f"the output must keep the input's shape {x.shape}; got {got.shape}."
    if np.allclose(got.sum(axis=0), 1) and not np.allclose(got.sum(axis=-1), 1):
        return "the columns sum to 1, not the rows: normalise along the last axis (axis=-1)."
    if not np.allclose(got.sum(axis=-1), 1):
        return f"each row must sum to 1; yours sum to {np.round(got.sum(axis=-1), 3)}."
    if not np.allclose(got, _reference_softmax(x), atol=1e-6):
        return "rows sum to 1 but the values are not exp(x_i) / sum_j exp(x_j)."
    big = np.array([[1000.0, 1001.0, 1002.0]])
    with np.errstate(all="ignore"):
        got_big, problem = _call(fn, big)
    if problem:
        return f"on large inputs [1000, 1001, 1002]: {problem}"
    if not np.all(np.isfinite(got_big)):
        return ("on [1000, 1001, 1002] you get NaN or inf: exp(1000) overflows. "
                "Subtract the row's maximum before exp; softmax does not change.")
    if not np.allclose(got_big, _reference_softmax(big), atol=1e-6):
        return "on [1000, 1001, 1002] the values are wrong; they should equal softmax([0, 1, 2])."
    return None


def check_01_softmax(your_softmax):
    """Exercise 01.1: your_softmax(x) -> softmax over the last axis, stable for large x."""
    return _report(_softmax_problem(your_softmax),
                   "rows sum to 1, values match, and large inputs do not overflow.")


def _scores_problem(fn):
    q, k = _RNG.normal(size=(4, 8)), _RNG.normal(size=(6, 8))
    got, problem = _call(fn, q, k)
    if problem:
        return problem
    want = q @ k.T / np.sqrt(8)
    if got.shape != want.shape:
        return (f"q is (4, 8) and k is (6, 8), so the scores are (n_q, n_k) = (4, 6); "
                f"got {got.shape}. Did you compute k q^T instead of q k^T?")
    if np.allclose(got, q @ k.T):
        return "you forgot to divide by sqrt(d_k) = sqrt(8)."
    if np.allclose(got, q @ k.T / 8):
        return "you divided by d_k; divide by its square root sqrt(d_k)."
    if not np.allclose(got, want, atol=1e-6):
        return "the shape is right but the values are not q k^T / sqrt(d_k)."
    return None


def check_01_scores(your_scores):
    """Exercise 01.2: your_scores(q, k) -> q k^T / sqrt(d_k), shape (n_q, n_k)."""
    return _report(_scores_problem(your_scores), "scores are q k^T / sqrt(d_k).")


def _attention_problem(fn):
    q, k, v = _RNG.normal(size=(4, 8)), _RNG.normal(size=(6, 8)), _RNG.normal(size=(6, 3))
    try:
        output, weights = (np.asarray(a) for a in fn(q, k, v))
    except NotImplementedError:
        return "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:
        return (f"it must return (output, weights); calling it raised "
                f"{type(err).__name__}: {err}")
    scores = q @ k.T / np.sqrt(8)
    want_weights = _reference_softmax(scores)
    if weights.shape != (4, 6):
        return f"weights must be (n_q, n_k) = (4, 6); got {weights.shape}."
    if np.allclose(weights, _reference_softmax(scores, axis=0)):
        return ("softmax ran over the query axis (axis 0): each key's column sums to 1, "
                "but each query's row must. Use axis=-1.")
    if np.allclose(weights, _reference_softmax(q @ k.T)):
        return "the weights miss the 1/sqrt(d_k) scaling."
    if not np.allclose(weights, want_weights, atol=1e-6):
        return "weights are not softmax(q k^T / sqrt(d_k)) along the last axis."
    if output.shape != (4, 3):
        return f"output must be (n_q, d_v) = (4, 3), one row per query; got {output.shape}."
    if not np.allclose(output, want_weights @ v, atol=1e-6):
        return "output must be weights @ v: each query's weighted average of the value rows."
    return None


def check_01_attention(your_attention):
    """Exercise 01.3: your_attention(q, k, v) -> (output, weights) for 2-D q, k, v."""
    return _report(_attention_problem(your_attention),
                   "weights and output match softmax(q k^T / sqrt(d_k)) v.")


def _causal_problem(fn):
    got, problem = _call(fn, 5)
    if problem:
        return problem
    want = np.tril(np.ones((5, 5), dtype=bool))
    if got.shape != (5, 5):
        return f"for n = 5 the mask is (n_q, n_k) = (5, 5); got {got.shape}."
    if got.dtype != bool:
        return f"the mask must be boolean (True = may attend); got dtype {got.dtype}."
    if np.array_equal(got, want.T):
        return "this is the upper triangle: query i would see the future keys j > i."
    if np.array_equal(got, np.tril(want, k=-1)):
        return "the diagonal is False: a token must be allowed to attend to itself."
    if np.array_equal(got, ~want):
        return "True and False are swapped: True means attention is allowed."
    if not np.array_equal(got, want):
        return "query i must see exactly the keys 0..i (a lower triangle with its diagonal)."
    return None


def check_01_causal_mask(your_mask):
    """Exercise 01.4: your_mask(n) -> (n, n) boolean, True where key j <= query i."""
    return _report(_causal_problem(your_mask),
                   "each query sees itself and the past, never the future.")
