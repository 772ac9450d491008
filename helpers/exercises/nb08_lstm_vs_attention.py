"""Self-checks for the exercises of notebook 08_lstm_vs_attention.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _count, _reference_softmax, _report


def _lstm_params_problem(fn):
    cases = [(128, 128), (32, 64), (300, 16)]
    for d_in, units in cases:
        got, problem = _count(fn, d_in, units)
        if problem:
            return problem
        want = 4 * units * (d_in + units + 1)
        if got == want:
            continue
        if got == units * (d_in + units + 1):
            return ("that is one gate's weights: an LSTM has four (input, forget, output gates and the "
                    "candidate cell), each with its own W, U and b.")
        if got == 4 * units * (d_in + 1):
            return "you left out the recurrent weights U (units, units) that read the previous hidden state."
        if got == 4 * units * (d_in + units):
            return "you left out the biases: each of the four gates has a bias of size units."
        return f"for d_in={d_in}, units={units} the LSTM has {want:,} parameters; got {got!r}."
    return None


def check_08_lstm_params(your_lstm_params):
    """Exercise 08.1: your_lstm_params(d_in, units) -> number of parameters of keras.layers.LSTM(units)."""
    return _report(_lstm_params_problem(your_lstm_params),
                   "4 · units · (d_in + units + 1): four gates, each with W, U and a bias.")


def _keep_last_problem(fn):
    ids = np.array([[5, 6, 7, 8, 9, 0, 0],
                    [2, 3, 0, 0, 0, 0, 0],
                    [4, 4, 5, 5, 6, 6, 7]])
    want = np.array([[6, 7, 8, 9],
                     [2, 3, 0, 0],
                     [5, 6, 6, 7]])
    got, problem = _call(fn, ids.copy(), 4)
    if problem:
        return problem
    if got.shape != want.shape:
        return f"return (batch, n) = {want.shape} ids for n = 4; got shape {got.shape}."
    if np.array_equal(got, want):
        return None
    if np.array_equal(got, ids[:, -4:]):
        return ("you took the last 4 columns, which are mostly padding for short reviews: take the last 4 "
                "REAL tokens (ids != 0) of each row.")
    if np.array_equal(got, ids[:, :4]):
        return "these are the first 4 tokens; keep the last 4 real tokens of each row."
    if np.array_equal(got, [[6, 7, 8, 9], [0, 0, 2, 3], [5, 6, 6, 7]]):
        return "the right tokens must come first and the padding after them (post-padding), as in the vectorizer."
    return f"for the rows {ids.tolist()} and n = 4 expected {want.tolist()}; got {got.tolist()}."


def check_08_keep_last(your_keep_last):
    """Exercise 08.2: your_keep_last(token_ids, n) -> the last n real tokens of each row, post-padded."""
    return _report(_keep_last_problem(your_keep_last),
                   "each row keeps its last n real tokens, padding after them.")


def _attention_entropy_problem(fn):
    weights = _reference_softmax(_RNG.normal(size=(2, 3, 5)) * 2)
    weights[0, 0] = [1, 0, 0, 0, 0]      # all attention on one key: entropy 0
    weights[1, 2] = 0.2                   # uniform over 5 keys: entropy log 5
    with np.errstate(all="ignore"):
        got, problem = _call(fn, weights.copy())
    if problem:
        return problem
    if got.shape != weights.shape[:-1]:
        return (f"return one entropy per query, shape {weights.shape[:-1]} for weights of shape "
                f"{weights.shape}; got {got.shape}.")
    if not np.all(np.isfinite(got)):
        return ("some entropies are NaN: a weight of 0 gives 0 · log 0 = 0 · (-inf) = NaN in NumPy. "
                "Count 0 · log 0 as 0, for example np.where(w > 0, w * np.log(np.where(w > 0, w, 1)), 0).")
    safe = np.where(weights > 0, weights, 1.0)
    want = -np.sum(weights * np.log(safe), axis=-1)
    if np.allclose(got, want, atol=1e-6):
        return None
    if np.allclose(got, want / np.log(2), atol=1e-6):
        return "that is in bits (log2); use the natural logarithm, so uniform weights over n keys give log n."
    if np.allclose(got, -want, atol=1e-6):
        return "the sign is wrong: entropy is -Σ w log w, which is ≥ 0."
    return "expected H = -Σ_k w_k log w_k over the keys (last axis) of each query."


def check_08_attention_entropy(your_attention_entropy):
    """Exercise 08.3: your_attention_entropy(weights (..., n_q, n_k)) -> entropy per query (..., n_q)."""
    return _report(_attention_entropy_problem(your_attention_entropy),
                   "0 for a query on one key, log n for a uniform one, 0 · log 0 counted as 0.")
