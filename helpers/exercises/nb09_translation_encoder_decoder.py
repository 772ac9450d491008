"""Self-checks for the exercises of notebook 09_translation_encoder_decoder.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _output_and_weights, _reference_softmax, _report


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
