"""Self-checks for the exercises of notebook 02_self_attention_layer.ipynb."""
import numpy as np

from helpers.exercises._common import (_RNG, _call, _count, _hint, _output_and_weights, _reference_softmax,
                                       _report)


def _reference_self_attention(x_q, x_kv, w_q, w_k, w_v, axis=-1, scale=None):
    q, k, v = x_q @ w_q, x_kv @ w_k, x_kv @ w_v
    scale = np.sqrt(k.shape[-1]) if scale is None else scale
    weights = _reference_softmax(q @ np.swapaxes(k, -1, -2) / scale, axis=axis)
    return weights @ v, weights


def _self_attention_problem(fn):
    x = _RNG.normal(size=(2, 5, 6))
    w_q, w_k, w_v = (_RNG.normal(size=(6, 4)) for _ in range(3))
    output, weights, problem = _output_and_weights(fn, x, w_q, w_k, w_v)
    if problem:
        return problem
    if weights.shape != (2, 5, 5):
        return f"weights must be (batch, n_q, n_k) = (2, 5, 5), one row per query; got {weights.shape}."

    def reference(**options):
        return _reference_self_attention(x, x, w_q, w_k, w_v, **options)[1]

    if np.allclose(weights, reference(axis=1)):
        return ("softmax ran over axis 1, the query axis of (batch, n_q, n_k) -- the article's bug. "
                "Each query's weights must sum to 1: softmax over the keys, axis=-1.")
    if np.allclose(weights, reference(scale=1.0)):
        return "the scores miss the scaling: divide q k^T by sqrt(units) = sqrt(4)."
    if np.allclose(weights, reference(scale=4.0)):
        return "you divided by units; divide by its square root, sqrt(units) = sqrt(4)."
    if np.allclose(weights, _reference_softmax(x @ np.swapaxes(x, -1, -2) / np.sqrt(6))):
        return "the scores use x itself: project first, q = x w_q and k = x w_k."
    if np.allclose(weights, _reference_self_attention(x, x, w_k, w_q, w_v)[1]):
        return ("queries and keys are swapped: the scores are (x w_q)(x w_k)^T, "
                "so that row i holds query i's match with every key.")
    if not np.allclose(weights, reference(), atol=1e-5):
        return "weights are not softmax((x w_q)(x w_k)^T / sqrt(units)) over the last axis."
    if output.shape == x.shape:
        return ("the output has d_model = 6 columns: you mixed the rows of x. "
                "Mix the values v = x w_v instead, (batch, n, units) = (2, 5, 4).")
    if output.shape != (2, 5, 4):
        return f"output must be (batch, n, units) = (2, 5, 4); got {output.shape}."
    if not np.allclose(output, _reference_self_attention(x, x, w_q, w_k, w_v)[0], atol=1e-5):
        return "the weights are right but the output is not weights @ v with v = x w_v."
    return None


def check_02_self_attention(your_self_attention):
    """Exercise 02.1: your_self_attention(x, w_q, w_k, w_v) -> (output, weights),
    x (batch, n, d_model), each w (d_model, units): the layer's call."""
    return _report(_self_attention_problem(your_self_attention),
                   "projections, scaled scores, softmax over the keys and the weighted sum all match.")


_WRONG_SCORE_AXES = (
    "axis 0, the batch axis: the weights sum to 1 across the examples of the batch",
    "axis 1, the head axis: the weights sum to 1 across the heads",
    "axis 2, the query axis (the article's bug, one axis further in): the weights sum to 1 "
    "across the queries",
)


def _softmax_axis_problem(fn):
    scores = _RNG.normal(size=(2, 3, 4, 5))  # (batch, heads, n_q, n_k), every size different
    got, problem = _call(fn, scores)
    if problem:
        return problem
    if got.shape != scores.shape:
        return (f"the weights keep the scores' shape (batch, heads, n_q, n_k) = {scores.shape}; "
                f"got {got.shape}.")
    for axis, name in enumerate(_WRONG_SCORE_AXES):
        if np.allclose(got, _reference_softmax(scores, axis=axis), atol=1e-6):
            return (f"your softmax ran over {name}, not across each query's keys. "
                    "Softmax over the last axis, the keys: axis=-1 (here also axis=3).")
    if not np.allclose(got, _reference_softmax(scores, axis=-1), atol=1e-6):
        return ("the result is not a softmax along one axis of the scores. "
                f"Each query's {scores.shape[-1]} weights must be positive and sum to 1.")
    return None


def check_02_softmax_axis(your_weights):
    """Exercise 02.2: your_weights(scores) -> softmax of multi-head scores
    (batch, heads, n_q, n_k) over the right axis."""
    return _report(_softmax_axis_problem(your_weights),
                   "softmax runs over the keys (axis=-1): every query's weights sum to 1, in every head.")


def _self_attention_count_problem(fn):
    for d_model, units in ((12, 5), (8, 3)):
        got, problem = _count(fn, d_model, units)
        if problem:
            return problem
        want = 3 * d_model * units
        if got != want:
            wrong = [
                (3 * (d_model * units + units), "the layer's Dense projections have no bias "
                                                "(use_bias=False)."),
                (4 * d_model * units, "this layer has three matrices, W_Q, W_K, W_V; the output "
                                      "projection W_O comes with multi-head attention (notebook 03)."),
                (d_model * units, "there are three projections, W_Q, W_K and W_V, not one."),
                (3 * units * units, "each W maps d_model to units: it is (d_model, units), "
                                    "not (units, units)."),
                (3 * d_model * d_model, "each W maps d_model to units: it is (d_model, units), "
                                        "not (d_model, d_model)."),
            ]
            hint = _hint(got, wrong, "count the entries of W_Q, W_K and W_V.")
            return (f"for d_model = {d_model}, units = {units} the layer has {want} weights; "
                    f"you said {got}: {hint}")
    return None


def check_02_parameter_count(your_count):
    """Exercise 02.3: your_count(d_model, units) -> the number of weights of SelfAttention(units)."""
    return _report(_self_attention_count_problem(your_count),
                   "3 · d_model · units: three (d_model, units) matrices and nothing else.")


def _cross_attention_02_problem(fn):
    x_q, x_kv = _RNG.normal(size=(2, 3, 6)), _RNG.normal(size=(2, 5, 6))
    w_q, w_k, w_v = (_RNG.normal(size=(6, 4)) for _ in range(3))
    got, problem = _call(fn, x_q, x_kv, w_q, w_k, w_v)
    if problem:
        return problem
    if got.shape == (2, 5, 4):
        return ("the output has one row per key/value position (5); it needs one per query (3): "
                "the queries come from x_q, the keys and values from x_kv.")
    if got.shape != (2, 3, 4):
        return f"output must be (batch, n_q, units) = (2, 3, 4); got {got.shape}."
    if np.allclose(got, _reference_self_attention(x_q, x_q, w_q, w_k, w_v)[0]):
        return "this is self-attention on x_q: the keys and values must come from x_kv."
    if np.allclose(got, _reference_self_attention(x_q, x_kv, w_q, w_k, w_v, axis=1)[0]):
        return ("softmax ran over axis 1, the queries: each query's weights over the "
                "5 keys must sum to 1, so use axis=-1.")
    if not np.allclose(got, _reference_self_attention(x_q, x_kv, w_q, w_k, w_v)[0], atol=1e-5):
        return "the shape is right but the values are not softmax(q k^T / sqrt(units)) v."
    return None


def check_02_cross_attention(your_cross_attention):
    """Exercise 02.4: your_cross_attention(x_q, x_kv, w_q, w_k, w_v) -> output (batch, n_q, units)."""
    return _report(_cross_attention_02_problem(your_cross_attention),
                   "queries from x_q, keys and values from x_kv: one output row per query.")
