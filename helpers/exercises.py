"""Self-checks for the notebooks' exercises.

Each `check_NN_<topic>(your_answer)` runs the student's answer on a few
inputs, compares it with an independent reference and prints what is wrong
(not only that it is wrong). It returns True when the answer is right, and
never raises, so an unfinished exercise does not stop "run all".
"""
import numpy as np

_RNG = np.random.default_rng(2017)


def _reference_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _report(problem, success):
    if problem is None:
        print(f"Correct: {success}")
        return True
    print(f"Not yet: {problem}")
    return False


def _call(fn, *args):
    """(result, problem): the answer's output, or why calling it failed."""
    try:
        return np.asarray(fn(*args)), None
    except NotImplementedError:
        return None, "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:  # a student's bug: report it instead of a stack trace
        return None, f"calling it raised {type(err).__name__}: {err}"


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


# Notebook 02: the self-attention layer ------------------------------------


def _reference_self_attention(x_q, x_kv, w_q, w_k, w_v, axis=-1, scale=None):
    q, k, v = x_q @ w_q, x_kv @ w_k, x_kv @ w_v
    scale = np.sqrt(k.shape[-1]) if scale is None else scale
    weights = _reference_softmax(q @ np.swapaxes(k, -1, -2) / scale, axis=axis)
    return weights @ v, weights


def _output_and_weights(fn, *args):
    """(output, weights, problem) from an answer that must return a pair."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, None, "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:  # a student's bug: report it instead of a stack trace
        return None, None, f"calling it raised {type(err).__name__}: {err}"
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None, None, f"it must return (output, weights), a pair; got a {type(result).__name__}."
    output, weights = (np.asarray(a) for a in result)
    return output, weights, None


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


def _count(fn, *args):
    """(count, problem): the answer as a Python int, or why it is not one."""
    got, problem = _call(fn, *args)
    if problem:
        return None, problem
    if got.shape != () or not np.issubdtype(got.dtype, np.number) or got != np.round(got):
        return None, f"the answer must be one whole number; got {got!r}."
    return int(got), None


def _hint(got, wrong, otherwise):
    """The explanation of the first typical wrong count equal to `got`, else `otherwise`."""
    return next((why for count, why in wrong if got == count), otherwise)


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


# Notebook 03: multi-head attention ----------------------------------------


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


# Notebook 04: masks ---------------------------------------------------------


def _array_hint(got, wrong, otherwise):
    """The explanation of the first typical wrong array equal to `got`, else `otherwise`."""
    return next((why for array, why in wrong if np.array_equal(got, array)), otherwise)


def _padding_mask_problem(fn):
    for pad_id in (0, 9):  # real tokens are 1..8, so both ids are free for padding
        ids = np.array([[4, 7, 2, pad_id, pad_id], [5, 1, pad_id, pad_id, pad_id], [3, 8, 6, 2, 1]])
        got, problem = _call(fn, ids, pad_id)
        if problem:
            return problem
        real = ids != pad_id
        if got.shape == real.shape:
            return ("the mask is (batch, n): add an axis for the queries, (batch, 1, n), so that it "
                    "broadcasts over the scores (batch, n_q, n_k) and hides keys for every query.")
        if got.shape == (3, 5, 1):
            return ("the mask is (batch, n, 1): that hides padding queries (rows). Padding must hide "
                    "keys (columns): put the new axis in the middle, (batch, 1, n).")
        if got.shape != (3, 1, 5):
            return f"token ids (batch, n) = (3, 5) give a mask (batch, 1, n) = (3, 1, 5); got {got.shape}."
        if got.dtype != bool:
            return f"the mask must be boolean (True where attention is allowed); got dtype {got.dtype}."
        want = real[:, np.newaxis, :]
        if np.array_equal(got, ~want):
            return "True and False are swapped: True marks a real token, a key that may be attended to."
        if pad_id != 0 and got.all():
            return (f"every key is allowed with pad_id = {pad_id}: compare the ids with the pad_id "
                    "argument, not with 0.")
        if not np.array_equal(got, want):
            return "entry [b, 0, j] must be True exactly where token j of example b is not pad_id."
    return None


def check_04_padding_mask(your_padding_mask):
    """Exercise 04.1: your_padding_mask(token_ids, pad_id) -> boolean (batch, 1, n),
    True where the key is a real token."""
    return _report(_padding_mask_problem(your_padding_mask),
                   "(batch, 1, n), True at real tokens: every query skips the <pad> keys.")


def _combined_mask_problem(fn):
    ids = np.array([[4, 7, 2, 0, 0], [5, 1, 0, 0, 0], [3, 8, 6, 2, 1]])
    got, problem = _call(fn, ids, 0)
    if problem:
        return problem
    keys = (ids != 0)[:, np.newaxis, :]
    causal = np.tril(np.ones((5, 5), dtype=bool))
    want = keys & causal
    if got.shape == (5, 5):
        return ("that is one (n, n) mask for the whole batch; each example has its own padding, "
                "so the result is (batch, n, n) = (3, 5, 5).")
    if got.shape == (3, 1, 5):
        return ("this is the padding mask alone, (batch, 1, n): combine it with the causal mask (n, n) "
                "to get (batch, n, n).")
    if got.shape != want.shape:
        return f"token ids (3, 5) give a mask (batch, n, n) = (3, 5, 5); got {got.shape}."
    if got.dtype != bool:
        return f"the mask must be boolean (True where attention is allowed); got dtype {got.dtype}."
    if np.array_equal(got, want):
        return None
    wrong = [
        (keys | causal, "you combined with OR: a key is allowed only where EVERY mask allows it, "
                        "so combine with AND (&)."),
        (keys & causal.T, "the causal part is the upper triangle: query i would see the future keys j > i."),
        (np.broadcast_to(causal, want.shape), "the padding part is missing: the <pad> keys are still visible."),
        (np.broadcast_to(keys, want.shape), "the causal part is missing: every query sees the future."),
        ((ids != 0)[:, :, np.newaxis] & causal,
         "the padding hides queries (rows) instead of keys (columns): use (batch, 1, n), not (batch, n, 1)."),
    ]
    return _array_hint(got, wrong,
                       "entry [b, i, j] must be True exactly where j <= i and token j of example b is not padding.")


def check_04_combined_mask(your_combined_mask):
    """Exercise 04.2: your_combined_mask(token_ids, pad_id) -> boolean (batch, n, n),
    padding AND causal."""
    return _report(_combined_mask_problem(your_combined_mask),
                   "padding AND causal, (batch, n, n): no <pad> keys and no future keys.")


def _fully_masked_problem(fn):
    causal = np.tril(np.ones((5, 5), dtype=bool))
    left_padded = np.array([[0, 0, 4, 7, 2], [0, 0, 0, 5, 1], [3, 8, 6, 2, 1]])
    random = _RNG.random((2, 5, 5)) < 0.4
    random[:, 0] = True  # no key is masked for every query ...
    random[:, 1] = random[:, 3] = False  # ... but queries 1 and 3 have no key left
    masks = ((left_padded != 0)[:, np.newaxis, :] & causal, random)
    for mask in masks:
        got, problem = _call(fn, mask)
        if problem:
            return problem
        want = ~mask.any(axis=-1)
        if got.shape == want.shape + (1,):
            return f"one answer per query, shape (batch, n_q) = {want.shape}; got {got.shape} (drop keepdims)."
        if got.shape != want.shape:
            return (f"a mask (batch, n_q, n_k) = {mask.shape} has one row per query: "
                    f"(batch, n_q) = {want.shape}; got {got.shape}.")
        if got.dtype != bool:
            return f"the answer must be boolean (True = no key left); got dtype {got.dtype}."
        if np.array_equal(got, want):
            continue
        wrong = [
            (~want, "True and False are swapped: True must mark the rows that have NO allowed key."),
            (~mask.all(axis=-1), "you marked every row with at least one masked key; a row is fully "
                                 "masked only when ALL its keys are masked: ~mask.any(axis=-1)."),
            (~mask.any(axis=-2), "you looked down the columns (one per key, axis -2); a query's row "
                                 "runs over the keys, axis=-1."),
        ]
        return _array_hint(got, wrong, "entry [b, i] must be True exactly where mask[b, i, :] is all False.")
    return None


def check_04_fully_masked_rows(your_fully_masked_rows):
    """Exercise 04.3: your_fully_masked_rows(mask) -> boolean (batch, n_q),
    True for a query with no allowed key; mask (batch, n_q, n_k)."""
    return _report(_fully_masked_problem(your_fully_masked_rows),
                   "a row is fully masked when no key is allowed: ~mask.any(axis=-1).")


def _masked_softmax_problem(fn):
    scores = _RNG.normal(size=(2, 4, 5))
    mask = _RNG.random((2, 4, 5)) < 0.6
    mask[..., 1] = True
    mask[0, 2] = False  # one query with no key at all
    with np.errstate(all="ignore"):
        got, problem = _call(fn, scores, mask)
    if problem:
        return problem
    if got.shape != scores.shape:
        return f"the weights keep the scores' shape {scores.shape}; got {got.shape}."
    live = mask.any(axis=-1)
    exp = np.where(mask, np.exp(scores - scores.max(axis=-1, keepdims=True)), 0.0)
    total = exp.sum(axis=-1, keepdims=True)
    want = exp / np.where(total > 0, total, 1.0)
    if np.isnan(got[live]).any():
        return "NaN in rows that have allowed keys: compute the softmax over the allowed keys only."
    if np.isnan(got).any():
        return ("the fully masked row [0, 2] is NaN: with -inf for every key, its maximum is -inf and "
                "-inf - (-inf) = NaN. A row with no allowed key must get zero weights.")
    if np.allclose(got, _reference_softmax(scores)):
        return "the mask is not applied: masked keys must get weight 0."
    if np.allclose(got, np.where(mask, _reference_softmax(scores), 0.0)):
        return ("you zeroed the masked weights after a plain softmax, so the rows no longer sum to 1. "
                "Mask the scores first (a very negative score for masked keys), then take the softmax.")
    if not np.allclose(got[live], want[live], atol=1e-6):
        return "the rows with allowed keys are not the softmax of their allowed scores (masked keys get 0)."
    if np.allclose(got[~live], 1 / scores.shape[-1]):
        return ("the fully masked row [0, 2] got uniform weights 1/5: every score was replaced by the same "
                "large negative number. It has no key to attend to, so its weights must be 0 "
                "(set the masked weights to 0 after the softmax).")
    if not np.allclose(got[~live], 0.0):
        return f"the fully masked row [0, 2] must be all zeros; got {np.round(got[~live], 3)}."
    return None


def check_04_masked_softmax(your_masked_softmax):
    """Exercise 04.4: your_masked_softmax(scores, mask) -> weights, softmax over the allowed keys,
    0 for masked keys, and all zeros (never NaN) for a row with no allowed key."""
    return _report(_masked_softmax_problem(your_masked_softmax),
                   "allowed keys share weight 1, masked keys get 0, and a fully masked row is zeros, not NaN.")


# Notebook 05: positional encoding ------------------------------------------


def _reference_sinusoid(length, depth, exponent=None, first=0):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same), depth even.

    exponent: the exponent of 10000 per dimension (default 2i/d); first: the first position.
    """
    positions = np.arange(first, first + length)[:, np.newaxis]
    if exponent is None:
        exponent = np.repeat(np.arange(0, depth, 2), 2) / depth
    angles = positions / 10000 ** exponent
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))


def _sinusoid_problem(fn):
    for length, depth in ((12, 8), (50, 16)):
        got, problem = _call(fn, length, depth)
        if problem:
            return problem
        want = _reference_sinusoid(length, depth)
        if got.shape == (depth, length):
            return (f"the shape is (depth, length) = {got.shape}: one row per position, "
                    f"(length, depth) = {want.shape}.")
        if got.shape != want.shape:
            return f"length {length}, depth {depth} give (length, depth) = {want.shape}; got {got.shape}."
        if np.allclose(got, want, atol=1e-5):
            continue
        angles = np.arange(length)[:, np.newaxis] / 10000 ** (np.arange(0, depth, 2) / depth)
        wrong = [
            (np.where(np.arange(depth) % 2 == 0, np.cos(np.repeat(angles, 2, axis=1)),
                      np.sin(np.repeat(angles, 2, axis=1))),
             "sine and cosine are swapped: even dimensions 2i take sin, odd dimensions 2i+1 take cos."),
            (np.concatenate([np.sin(angles), np.cos(angles)], axis=1),
             "you put all the sines first, then all the cosines (a layout some libraries use). Here, "
             "as in the paper, they alternate: dimension 2i is sin, 2i+1 is cos of the same frequency."),
            (_reference_sinusoid(length, depth, exponent=np.arange(depth) / depth),
             "the exponent uses each dimension's own index k (k/d); it must be 2i/d, the same for "
             "dimensions 2i and 2i+1, so each sin/cos pair shares one frequency."),
            (_reference_sinusoid(length, depth, first=1),
             "the positions start at 1; they start at 0 (row 0 is sin 0 = 0, cos 0 = 1, alternating)."),
        ]
        hint = next((why for array, why in wrong if np.allclose(got, array, atol=1e-5)), None)
        return hint or "the values are not sin(pos / 10000^(2i/d)) (even) and cos(pos / 10000^(2i/d)) (odd)."
    return None


def check_05_sinusoidal_encoding(your_encoding):
    """Exercise 05.1: your_encoding(length, depth) -> (length, depth), the sinusoidal code (depth even)."""
    return _report(_sinusoid_problem(your_encoding),
                   "sin on even dimensions, cos on odd ones, one frequency 1/10000^(2i/d) per pair.")


def _permutation_problem(fn):
    x = _RNG.normal(size=(2, 5, 4))  # (batch, n, d): the batch is 2, the positions 5
    w = _RNG.normal(size=(4, 4)) / 2
    perm = np.array([1, 2, 3, 4, 0])  # every position moves, and not back: perm is not its own inverse
    codes = _reference_sinusoid(5, 4)

    def weights(x):  # softmax((x w) x^T / 2): attention weights with no positions
        return _reference_softmax((x @ w) @ np.swapaxes(x, -1, -2) / 2)

    def weights_with_positions(x):
        return weights(x + codes)

    def gap(f, rows, columns):
        return np.abs(f(x[:, perm]) - f(x)[:, rows][:, :, columns]).max()

    gaps = []
    for f in (weights, weights_with_positions):
        got, problem = _call(fn, f, x, perm)
        if problem:
            if "IndexError" in problem:
                problem += " Permute the positions, axis 1 of x (batch, n, d): x[:, perm]."
            return problem
        if got.shape != () or not np.issubdtype(got.dtype, np.number):
            return f"return one number, the largest absolute difference; got {got!r}."
        gaps.append(float(got))
    same, inverse = np.arange(5), np.argsort(perm)
    if gaps[0] > 1e-6:
        wrong = [
            (gap(weights, perm, same), "you permuted the rows (queries) only. The keys moved too: "
                                       "permute the columns as well, f(x)[:, perm][:, :, perm]."),
            (gap(weights, same, perm), "you permuted the columns (keys) only. The queries moved too: "
                                       "permute the rows as well, f(x)[:, perm][:, :, perm]."),
            (gap(weights, same, same), "you compared with f(x) as it is: permute its rows and columns, "
                                       "f(x)[:, perm][:, :, perm]."),
            (gap(weights, inverse, inverse), "you used the inverse permutation: x[:, perm] puts token "
                                             "perm[i] at position i, so index the weights with perm too."),
        ]
        hint = next((why for value, why in wrong if np.isclose(gaps[0], value, rtol=1e-6)),
                    "the permuted weights are f(x)[:, perm][:, :, perm]: rows and columns both move.")
        return f"for attention without positions your gap is {gaps[0]:.3f}, but it must be about 0: {hint}"
    if gaps[1] < 1e-6:
        return ("your gap is about 0 even with positions added, which do depend on the order: compare "
                "f(x[:, perm]) with f(x)[:, perm][:, :, perm], not one of them with itself.")
    want = gap(weights_with_positions, perm, perm)
    if not np.isclose(gaps[1], want, rtol=1e-5):
        return (f"with positions the largest absolute difference is {want:.4f}; you returned {gaps[1]:.4f}. "
                "Return np.abs(f(x[:, perm]) - f(x)[:, perm][:, :, perm]).max().")
    return None


def check_05_permutation_test(your_gap):
    """Exercise 05.2: your_gap(f, x, perm) -> max |f(x[:, perm]) - f(x)[:, perm][:, :, perm]|,
    x (batch, n, d), f(x) attention weights (batch, n, n)."""
    return _report(_permutation_problem(your_gap),
                   "the weights permute as P W Pᵀ: about 0 without positions, clearly not 0 with them.")


def _offset_similarity_problem(fn):
    for depth in (8, 16):
        codes = _reference_sinusoid(40, depth)
        frequencies = 1 / 10000 ** (np.arange(0, depth, 2) / depth)
        for offset in (1, 5, -3, 0):  # k = 0 last: there "twice" and "depth terms" coincide
            got, problem = _call(fn, offset, depth)
            if problem:
                return problem
            if got.shape != () or not np.issubdtype(got.dtype, np.number):
                return f"return one number, PE[p] · PE[p + k]; got {got!r}."
            want = codes[10] @ codes[10 + offset]
            if np.isclose(got, want, atol=1e-6):
                continue
            wrong = [
                (2 * want, "each frequency adds sin·sin + cos·cos = cos(ω k) once, not twice."),
                (np.sin(frequencies * offset).sum(), "sin(a) sin(b) + cos(a) cos(b) = cos(a - b): "
                                                     "the terms are cosines."),
                (np.cos(offset / 10000 ** (np.arange(depth) / depth)).sum(),
                 "there are depth / 2 frequencies ω_i = 1 / 10000^(2i/d), one per sin/cos pair, not depth."),
            ]
            hint = next((why for value, why in wrong if np.isclose(got, value, atol=1e-6)), None)
            return (f"for offset k = {offset}, depth = {depth}, PE[p] · PE[p + k] = {want:.4f}; you said "
                    f"{float(got):.4f}. " + (hint or "Sum cos(ω_i k) over the depth / 2 frequencies."))
    return None


def check_05_offset_similarity(your_similarity):
    """Exercise 05.3: your_similarity(k, depth) -> PE[p] · PE[p + k], the same for every p."""
    return _report(_offset_similarity_problem(your_similarity),
                   "PE[p] · PE[p + k] = Σ_i cos(k / 10000^(2i/d)): it depends on the offset k only.")


# Notebook 06: the Transformer encoder block --------------------------------


def _reference_layer_norm(z, gamma, beta, epsilon=1e-3, axis=-1, ddof=0):
    mean = z.mean(axis=axis, keepdims=True)
    var = z.var(axis=axis, keepdims=True, ddof=ddof)
    return gamma * (z - mean) / np.sqrt(var + epsilon) + beta


def _encoder_block_count(d_model, d_ff):
    attention = 4 * (d_model * d_model + d_model)
    feed_forward = d_model * d_ff + d_ff + d_ff * d_model + d_model
    return attention + feed_forward + 2 * 2 * d_model


def _encoder_count_problem(fn):
    # (vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first); in each case
    # every typical mistake gives a different number.
    for args in ((50, 20, 16, 4, 40, 3, True), (30, 12, 24, 3, 64, 2, False)):
        vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first = args
        got, problem = _count(fn, *args)
        if problem:
            return problem
        block = _encoder_block_count(d_model, d_ff)
        final_norm = 2 * d_model if norm_first else 0
        want = (vocab_size + max_length) * d_model + num_layers * block + final_norm
        if got != want:
            attention = 4 * (d_model * d_model + d_model)
            wrong = [
                (want - max_length * d_model, "you left out the learned position embedding: one vector "
                                              "of d_model numbers for each of the max_length positions."),
                (want - vocab_size * d_model, "you left out the token embedding: one vector of d_model "
                                              "numbers for each of the vocab_size tokens."),
                (want - (vocab_size + max_length) * d_model, "you left out the embeddings (tokens and "
                                                             "positions); they are part of the encoder."),
                (want + num_layers * (num_heads - 1) * attention,
                 "the number of heads does not change the count: h heads of d_model / h columns each "
                 "fill the same d_model × d_model matrices W_Q, W_K, W_V, W_O."),
                (want - (num_layers - 1) * block, "you counted one block; the stack has num_layers of them."),
                (want - num_layers * 4 * d_model, "each block has 4 · d_model more: either the biases of "
                                                  "W_Q, W_K, W_V, W_O (d_model each) or the γ and β of its "
                                                  "two LayerNorms (d_model each) are missing."),
                (want - num_layers * 2 * d_model, "each block has two LayerNorms (after attention and after "
                                                  "the feed-forward), each with γ and β of d_model."),
                (want - num_layers * (d_ff + d_model), "the feed-forward has biases too: b_1 (d_ff) and "
                                                       "b_2 (d_model)."),
                (want - num_layers * (d_model * d_ff + d_ff), "the feed-forward has two layers: W_1 "
                                                              "(d_model, d_ff) with b_1, and W_2 (d_ff, "
                                                              "d_model) with b_2."),
            ]
            if norm_first:
                wrong.insert(0, (want - final_norm, "a pre-LN stack (norm_first=True) ends with one more "
                                                    "LayerNorm after its last block: 2 · d_model."))
            else:
                wrong.insert(0, (want + 2 * d_model, "only a pre-LN stack (norm_first=True) has a final "
                                                     "LayerNorm; a post-LN block already ends with one."))
            hint = _hint(got, wrong, "count the embeddings, then per block the attention (4 matrices, "
                                     "4 biases), the feed-forward (2 matrices, 2 biases) and 2 LayerNorms, "
                                     "then any final LayerNorm.")
            return (f"for vocab_size = {vocab_size}, max_length = {max_length}, d_model = {d_model}, "
                    f"num_heads = {num_heads}, d_ff = {d_ff}, num_layers = {num_layers}, "
                    f"norm_first = {norm_first} the encoder has {want} parameters; you said {got}: {hint}")
    return None


def check_06_encoder_parameters(your_count):
    """Exercise 06.1: your_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers,
    norm_first) -> parameters of PositionalEmbedding (learned), num_layers
    TransformerEncoderBlocks and, for pre-LN, a final LayerNorm."""
    return _report(_encoder_count_problem(your_count),
                   "(vocab_size + max_length) · d_model for the embeddings, num_layers · "
                   "(4·d² + 2·d·d_ff + d_ff + 9·d) for the blocks, 2·d more for pre-LN's final "
                   "LayerNorm; the number of heads does not count.")


def _add_and_norm_problem(fn):
    x, y = _RNG.normal(size=(2, 4, 6)), _RNG.normal(size=(2, 4, 6))
    gamma, beta = _RNG.normal(size=6), _RNG.normal(size=6)
    got, problem = _call(fn, x, y, gamma, beta, 1e-3)
    if problem:
        return problem
    if got.shape != x.shape:
        return f"the output keeps the shape of x, (batch, n, d_model) = {x.shape}; got {got.shape}."
    z = x + y
    standardised = _reference_layer_norm(z, 1.0, 0.0)
    if not np.allclose(got, _reference_layer_norm(z, gamma, beta), rtol=1e-6, atol=1e-6):
        wrong = [
            (_reference_layer_norm(y, gamma, beta), "you normalised the sub-layer output alone: add the "
                                                    "residual first, LayerNorm(x + y)."),
            (x + _reference_layer_norm(y, gamma, beta), "you normalised y and then added x; the paper's "
                                                        "order adds first, then normalises the sum: "
                                                        "LayerNorm(x + y)."),
            (standardised, "you left out γ and β: multiply the normalised sum by gamma, then add beta."),
            (beta * standardised + gamma, "gamma and beta are swapped: γ scales, β shifts."),
            (_reference_layer_norm(z, gamma, beta, axis=1), "you normalised over the tokens (axis 1); "
                                                            "LayerNorm normalises each token over its own "
                                                            "d_model features (axis=-1)."),
            (_reference_layer_norm(z, gamma, beta, axis=0), "you normalised over the batch (axis 0), as "
                                                            "batch normalisation does; LayerNorm normalises "
                                                            "each token over its own features (axis=-1)."),
            (_reference_layer_norm(z, gamma, beta, ddof=1), "use the population variance, dividing by "
                                                            "d_model (np.var's default), not d_model - 1."),
            (gamma * (z - z.mean(-1, keepdims=True)) / (z.std(-1, keepdims=True) + 1e-3) + beta,
             "put epsilon inside the square root: (z - μ) / sqrt(σ² + epsilon)."),
            (_reference_layer_norm(z, gamma, beta, epsilon=0.0), "epsilon is missing: divide by "
                                                                 "sqrt(σ² + epsilon)."),
        ]
        for candidate, why in wrong:
            if np.allclose(got, candidate, rtol=1e-6, atol=1e-6):
                return why
        return "the values are not γ · (z - μ) / sqrt(σ² + epsilon) + β of z = x + y, over the last axis."
    flat = np.ones((1, 2, 6))
    with np.errstate(all="ignore"):
        got_flat, problem = _call(fn, flat, np.zeros_like(flat), gamma, beta, 1e-3)
    if problem:
        return f"on a token whose features are all equal: {problem}"
    if not np.allclose(got_flat, np.broadcast_to(beta, flat.shape)):
        return ("a token whose features are all equal has σ² = 0: with epsilon inside the square root "
                "its output must be β, not NaN or inf.")
    return None


def check_06_add_and_norm(your_add_and_norm):
    """Exercise 06.2: your_add_and_norm(x, y, gamma, beta, epsilon) -> LayerNorm(x + y)
    over the last axis, y being the sub-layer's output."""
    return _report(_add_and_norm_problem(your_add_and_norm),
                   "LayerNorm(x + y): each token's sum normalised over its own features, then scaled "
                   "by γ and shifted by β.")


def _sublayer_problem(fn):
    x = _RNG.normal(size=(2, 4, 6))
    w = _RNG.normal(size=(6, 6)) / np.sqrt(6)
    gamma, beta = 1 + 0.3 * _RNG.normal(size=6), 0.3 * _RNG.normal(size=6)

    def sublayer(z):
        return np.tanh(z @ w)

    def norm(z):
        return _reference_layer_norm(z, gamma, beta)

    got = {}
    for norm_first in (False, True):
        got[norm_first], problem = _call(fn, x, sublayer, gamma, beta, norm_first)
        if problem:
            return f"with norm_first={norm_first}: {problem}"
        if got[norm_first].shape != x.shape:
            return (f"with norm_first={norm_first} the output must keep the shape of x, {x.shape}; "
                    f"got {got[norm_first].shape}.")
    post, pre = norm(x + sublayer(x)), x + sublayer(norm(x))

    def close(a, b, tolerance=1e-6):
        return np.allclose(a, b, rtol=tolerance, atol=tolerance)

    if close(got[False], pre) and close(got[True], post):
        return ("the two orders are swapped: norm_first=False (post-LN, the paper) normalises the sum, "
                "LayerNorm(x + Sublayer(x)); norm_first=True (pre-LN) normalises the sub-layer's input, "
                "x + Sublayer(LayerNorm(x)).")
    if close(got[False], got[True]):
        return "you return the same result for norm_first=False and True; the two orders differ."
    if not close(got[False], post):
        if close(got[False], x + norm(sublayer(x))):
            return ("with norm_first=False, normalise the sum x + Sublayer(x), not the sub-layer's "
                    "output alone: LayerNorm(x + Sublayer(x)).")
        if close(got[False], post, 1e-2):
            return "norm_first=False is nearly right: use epsilon = 1e-3 (Keras's default) inside the sqrt."
        return "with norm_first=False the result must be LayerNorm(x + Sublayer(x))."
    if not close(got[True], pre):
        if close(got[True], norm(x) + sublayer(norm(x))):
            return ("with norm_first=True the residual must add the original x, not LayerNorm(x): "
                    "x + Sublayer(LayerNorm(x)). That untouched path is what makes pre-LN easy to train.")
        if close(got[True], x + norm(sublayer(x))):
            return ("with norm_first=True, normalise the sub-layer's input, not its output: "
                    "x + Sublayer(LayerNorm(x)).")
        if close(got[True], norm(pre)):
            return ("with norm_first=True nothing normalises the sum: x + Sublayer(LayerNorm(x)), "
                    "with no LayerNorm after the addition.")
        if close(got[True], pre, 1e-2):
            return "norm_first=True is nearly right: use epsilon = 1e-3 (Keras's default) inside the sqrt."
        return "with norm_first=True the result must be x + Sublayer(LayerNorm(x))."
    return None


def check_06_pre_post_ln(your_sublayer):
    """Exercise 06.3: your_sublayer(x, sublayer, gamma, beta, norm_first) -> one residual
    sub-layer, LayerNorm(x + sublayer(x)) or x + sublayer(LayerNorm(x))."""
    return _report(_sublayer_problem(your_sublayer),
                   "post-LN normalises the sum, LayerNorm(x + Sublayer(x)); pre-LN normalises the "
                   "sub-layer's input and leaves the residual path alone, x + Sublayer(LayerNorm(x)).")


def _dropout_problem(fn):
    rate = 0.2
    z = _RNG.normal(size=(200, 500))
    got, problem = _call(fn, z, rate, np.random.default_rng(6))
    if problem:
        return problem
    if got.shape != z.shape:
        return f"the output keeps the input's shape {z.shape}; got {got.shape}."
    dropped = got == 0
    fraction = dropped.mean()
    if fraction == 0:
        if np.allclose(got, z * (1 - rate)):
            return ("no entry was set to 0: you scaled every entry by (1 - rate). Dropout sets a random "
                    "fraction `rate` of the entries to 0 and divides the others by (1 - rate).")
        return "no entry was set to 0: each entry must become 0 with probability rate."
    if abs(fraction - (1 - rate)) < 0.02:
        return (f"{fraction:.0%} of the entries became 0: you dropped with probability 1 - rate. rate is "
                "the probability of dropping: keep an entry where rng.random(z.shape) >= rate.")
    if abs(fraction - rate) > 0.02:
        return f"{fraction:.1%} of the entries became 0; with rate = {rate} about {rate:.0%} should."
    ratio = got[~dropped] / z[~dropped]
    if np.allclose(ratio, 1):
        return ("the kept entries are unchanged, so the mean shrinks by (1 - rate). Divide them by "
                "(1 - rate) (\"inverted dropout\"): the expected value stays z and inference needs no change.")
    if np.allclose(ratio, 1 - rate):
        return ("you multiplied the kept entries by (1 - rate); divide them by it, so that the expected "
                "value stays z.")
    if not np.allclose(ratio, 1 / (1 - rate)):
        return "each kept entry must become z / (1 - rate)."
    got_zero, problem = _call(fn, z, 0.0, np.random.default_rng(6))
    if problem:
        return f"with rate = 0: {problem}"
    if not np.allclose(got_zero, z):
        return "with rate = 0 nothing is dropped: the output must equal z."
    return None


def check_06_dropout(your_dropout):
    """Exercise 06.4: your_dropout(z, rate, rng) -> inverted dropout at training time:
    each entry 0 with probability rate, the others divided by (1 - rate)."""
    return _report(_dropout_problem(your_dropout),
                   "a fraction `rate` of the entries becomes 0 and the rest are divided by (1 - rate), "
                   "so the expected value stays the same.")


# Notebook 09: translation with an encoder-decoder --------------------------


def _shift_problem(fn):
    start, end = 2, 3
    target = np.array([[start, 7, 8, 9, end, 0], [start, 5, end, 0, 0, 0]])
    try:
        result = fn(target.copy())
    except NotImplementedError:
        return "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:
        return f"calling it raised {type(err).__name__}: {err}"
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return "it must return two arrays, (decoder_input, labels)."
    decoder_input, labels = (np.asarray(a) for a in result)
    want_input, want_labels = target[:, :-1], target[:, 1:]
    if decoder_input.shape != (2, 5) or labels.shape != (2, 5):
        return (f"for ids (2, 6) both parts are (batch, n - 1) = (2, 5); got {decoder_input.shape} "
                f"and {labels.shape}.")
    if np.array_equal(decoder_input, want_labels) and np.array_equal(labels, want_input):
        return ("the two are swapped: the decoder reads target[:, :-1] (it starts with [start]) "
                "and learns to predict target[:, 1:] (the next token).")
    if not np.array_equal(decoder_input, want_input):
        return ("the decoder input must be the target without its last position, target[:, :-1]: "
                "it starts with [start] and never needs to read the final token.")
    if np.array_equal(labels, decoder_input):
        return "labels equal the input: the model would learn to copy, not to predict the next token."
    if not np.array_equal(labels, want_labels):
        return ("labels must be the target shifted by one, target[:, 1:]: at position i the label "
                "is token i + 1.")
    return None


def check_09_shift(your_shift):
    """Exercise 09.1: your_shift(target_ids) -> (target[:, :-1], target[:, 1:])."""
    return _report(_shift_problem(your_shift),
                   "the decoder reads [start] y_1 ... and learns to predict y_1 ... [end], one step ahead.")


def _cross_attention_problem(fn):
    n_t, n_s, d, d_k = 4, 5, 6, 3
    y, h = _RNG.normal(size=(n_t, d)), _RNG.normal(size=(n_s, d))
    w_q, w_k, w_v = (_RNG.normal(size=(d, d_k)) for _ in range(3))
    mask = np.array([True, True, True, False, False])
    output, weights, problem = _output_and_weights(fn, y, h, w_q, w_k, w_v, mask.copy())
    if problem:
        return problem
    q, k, v = y @ w_q, h @ w_k, h @ w_v
    scores = q @ k.T / np.sqrt(d_k)
    want = _reference_softmax(np.where(mask, scores, -np.inf))
    if weights.shape == (n_s, n_t) or output.shape == (n_s, d_k):
        return ("the queries must come from the target y and the keys and values from the source h: "
                f"weights (n_t, n_s) = {(n_t, n_s)}; yours look transposed.")
    if weights.shape != (n_t, n_s):
        return f"weights must be (n_t, n_s) = {(n_t, n_s)}; got {weights.shape}."
    if np.allclose(weights, _reference_softmax(scores), atol=1e-6):
        return "the padding keys get weight: set their scores to -inf (or -1e9) before the softmax."
    causal = np.tril(np.ones((n_t, n_s), dtype=bool))
    if np.allclose(weights, _reference_softmax(np.where(mask & causal, scores, -np.inf)), atol=1e-6):
        return "there is no causal mask in cross-attention: the whole source is known at every step."
    if np.allclose(weights, _reference_softmax(np.where(mask, q @ k.T, -np.inf)), atol=1e-6):
        return "the scores miss the 1/sqrt(d_k) scaling."
    if not np.allclose(weights, want, atol=1e-6):
        return ("weights must be softmax((y W_Q)(h W_K)^T / sqrt(d_k)) over the source axis, "
                "0 at padding; each row sums to 1.")
    if output.shape != (n_t, d_k) or not np.allclose(output, want @ v, atol=1e-6):
        return "output must be weights @ (h W_V): one row per target position, (n_t, d_k)."
    return None


def check_09_cross_attention(your_cross_attention):
    """Exercise 09.2: your_cross_attention(y, h, w_q, w_k, w_v, source_mask) -> (output, weights)."""
    return _report(_cross_attention_problem(your_cross_attention),
                   "queries from the target, keys and values from the source, padding masked, no causal mask.")


def _masked_accuracy_problem(fn):
    labels = np.array([[4, 2, 5, 0, 0], [3, 3, 0, 0, 0]])
    guesses = np.array([[4, 1, 5, 0, 0], [3, 1, 0, 0, 0]])  # 3 of 5 real tokens right
    logits = np.eye(6)[guesses] * 5.0
    got, problem = _call(fn, labels, logits)
    if problem:
        return problem
    if got.shape != ():
        return f"return one number (a share of the real tokens); got shape {got.shape}."
    value = float(got)
    if np.isclose(value, 0.8):
        return "you counted the padding positions (8 of 10 'right'): average over labels != 0 only."
    if np.isclose(value, np.mean([2 / 3, 1 / 2])):
        return ("you averaged the per-sentence accuracies: count right real tokens over all real "
                "tokens of the batch (3 of 5), so every token weighs the same.")
    if not np.isclose(value, 0.6):
        return f"3 of the 5 real tokens are right, so the answer is 0.6; got {value:.3f}."
    return None


def check_09_masked_accuracy(your_masked_accuracy):
    """Exercise 09.3: your_masked_accuracy(labels, logits) -> share of real tokens predicted right."""
    return _report(_masked_accuracy_problem(your_masked_accuracy),
                   "padding is ignored and every real token counts once.")


# Notebook 07: IMDB sentiment -------------------------------------------------


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
