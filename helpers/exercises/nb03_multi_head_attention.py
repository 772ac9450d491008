"""Self-checks for the exercises of notebook 03_multi_head_attention.ipynb."""
import numpy as np

from helpers.exercises._common import (_RNG, _call, _count, _hint, _output_and_weights, _reference_softmax,
                                       _report)


def _reference_split(x, num_heads):
    batch, n, d_model = x.shape
    return x.reshape(batch, n, num_heads, d_model // num_heads).transpose(0, 2, 1, 3)


def _reference_merge(x):
    batch, num_heads, n, key_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, n, num_heads * key_dim)


def _split_problem(fn):
    for num_heads in (3, 4):
        x = _RNG.normal(size=(2, 5, 12))
        got, problem = _call(fn, x, num_heads)
        if problem:
            return problem
        key_dim = 12 // num_heads
        want = _reference_split(x, num_heads)
        if got.shape == (2, 5, num_heads, key_dim):
            return (f"the shape is (batch, n, heads, d_k) = {got.shape}: move the head axis in front "
                    "of the positions, (batch, heads, n, d_k), so that each head is a stack of n rows.")
        if got.shape != want.shape:
            return (f"x (2, 5, 12) with {num_heads} heads splits into (batch, heads, n, d_k) = "
                    f"{want.shape}; got {got.shape}.")
        if np.allclose(got, x.reshape(want.shape)):
            return ("you reshaped straight to (batch, heads, n, d_k): the flat numbers are cut in the "
                    "wrong places, so one head gets pieces of different tokens. Reshape to "
                    "(batch, n, heads, d_k) first, then swap the axes of n and heads.")
        if np.allclose(got, x.reshape(2, 5, key_dim, num_heads).transpose(0, 3, 1, 2)):
            return ("head i got the interleaved dimensions i, i + heads, i + 2·heads, ...: each head "
                    "must get one contiguous block of d_k = d_model / heads dimensions "
                    "(reshape to (batch, n, heads, d_k), not (batch, n, d_k, heads)).")
        if not np.allclose(got, want):
            return "head i must hold dimensions i·d_k ... (i+1)·d_k - 1 of every token."
    return None


def check_03_split_heads(your_split_heads):
    """Exercise 03.1: your_split_heads(x, num_heads):
    (batch, n, d_model) -> (batch, heads, n, d_model / heads)."""
    return _report(_split_problem(your_split_heads),
                   "head i holds dimensions i·d_k to (i+1)·d_k - 1 of every token, "
                   "as (batch, heads, n, d_k).")


def _merge_problem(fn):
    x = _RNG.normal(size=(2, 3, 5, 4))  # (batch, heads, n, d_k)
    got, problem = _call(fn, x)
    if problem:
        return problem
    want = _reference_merge(x)
    if got.shape != want.shape:
        return (f"(batch, heads, n, d_k) = (2, 3, 5, 4) merges into (batch, n, heads·d_k) = "
                f"{want.shape}; got {got.shape}.")
    if np.allclose(got, x.reshape(want.shape)):
        return ("you reshaped without moving the head axis back: rows of different tokens got glued "
                "together. Transpose to (batch, n, heads, d_k) first, then reshape.")
    if np.allclose(got, x.transpose(0, 2, 3, 1).reshape(want.shape)):
        return ("the heads are interleaved: token j's row must be head 0's d_k numbers, then head 1's, "
                "and so on (transpose to (batch, n, heads, d_k), not (batch, n, d_k, heads)).")
    if not np.allclose(got, want):
        return "token j's row must be the concatenation [head_0[j], head_1[j], ...]."
    return None


def check_03_merge_heads(your_merge_heads):
    """Exercise 03.2: your_merge_heads(x): (batch, heads, n, d_k) -> (batch, n, heads · d_k)."""
    return _report(_merge_problem(your_merge_heads),
                   "each token's row is its heads' outputs side by side, and merge undoes split.")


def _multi_head_count_problem(fn):
    # First heads·key_dim != d_model: there every typical mistake gives a different number.
    for d_model, num_heads, key_dim in ((12, 2, 5), (16, 4, 4)):
        got, problem = _count(fn, d_model, num_heads, key_dim)
        if problem:
            return problem
        width = num_heads * key_dim
        want = 4 * d_model * width + 3 * width + d_model
        if got != want:
            wrong = [
                (4 * d_model * width, "Keras adds a bias to every projection by default: "
                                      "3 of size heads·key_dim (Q, K, V) and one of size d_model (W_O)."),
                (4 * d_model * width + 4 * width, "W_O's bias has one entry per output dimension, "
                                                  "d_model, not heads·key_dim."),
                (3 * d_model * width + 3 * width, "you left out the output projection W_O and its bias."),
                (4 * d_model * d_model + 4 * d_model, "each projection is (d_model, heads·key_dim); "
                                                      "heads·key_dim need not equal d_model."),
                (4 * d_model * key_dim + 3 * key_dim + d_model, "every head has its own key_dim columns: "
                                                                "multiply by num_heads."),
            ]
            hint = _hint(got, wrong, "count W_Q, W_K, W_V (d_model, heads·key_dim), "
                                     "W_O (heads·key_dim, d_model) and the four biases.")
            return (f"for d_model = {d_model}, num_heads = {num_heads}, key_dim = {key_dim} Keras has "
                    f"{want} weights; you said {got}: {hint}")
    return None


def check_03_parameter_count(your_count):
    """Exercise 03.3: your_count(d_model, num_heads, key_dim) -> weights of
    keras.layers.MultiHeadAttention(num_heads, key_dim) on inputs of size d_model."""
    return _report(_multi_head_count_problem(your_count),
                   "4 · d_model · heads · key_dim weights plus 3 · heads · key_dim + d_model biases.")


def _multi_head_problem(fn):
    x = _RNG.normal(size=(2, 5, 8))
    w_q, w_k, w_v, w_o = (_RNG.normal(size=(8, 8)) / np.sqrt(8) for _ in range(4))
    output, weights, problem = _output_and_weights(fn, x, w_q, w_k, w_v, w_o, 2)
    if problem:
        return problem

    def reference(axis=-1, scale=np.sqrt(4)):
        q, k, v = (_reference_split(x @ w, 2) for w in (w_q, w_k, w_v))
        weights = _reference_softmax(q @ np.swapaxes(k, -1, -2) / scale, axis=axis)
        return _reference_merge(weights @ v), weights

    if weights.shape in ((2, 5, 5), (2, 1, 5, 5)):
        return (f"weights are {weights.shape}: one head. Split q, k and v into 2 heads of d_k = 4 "
                "first; the weights are (batch, heads, n_q, n_k) = (2, 2, 5, 5).")
    if weights.shape != (2, 2, 5, 5):
        return f"weights must be (batch, heads, n_q, n_k) = (2, 2, 5, 5); got {weights.shape}."
    if np.allclose(weights, reference(scale=np.sqrt(8))[1]):
        return "you scaled by sqrt(d_model) = sqrt(8); each head scales by its own sqrt(d_k) = sqrt(8 / 2)."
    if np.allclose(weights, reference(axis=2)[1]):
        return "softmax ran over the query axis; each query's weights must sum to 1 (axis=-1)."
    if not np.allclose(weights, reference()[1], atol=1e-5):
        return "the weights are not softmax(q_i k_i^T / sqrt(d_k)) for each head i."
    heads = reference()[0]
    if output.shape == heads.shape and np.allclose(output, heads):
        return "you returned the concatenated heads: multiply them by W_O (w_o) at the end."
    if output.shape != (2, 5, 8):
        return f"output must be (batch, n, d_model) = (2, 5, 8); got {output.shape}."
    if not np.allclose(output, heads @ w_o, atol=1e-5):
        return "the weights are right but the output is not Concat(heads) @ w_o."
    return None


def check_03_multi_head_attention(your_multi_head):
    """Exercise 03.4: your_multi_head(x, w_q, w_k, w_v, w_o, num_heads) -> (output, weights)
    without biases: x (batch, n, d_model), weights (batch, heads, n, n)."""
    return _report(_multi_head_problem(your_multi_head),
                   "split, attend per head, concatenate and W_O all match.")
