"""Self-checks for the exercises of notebook 06_transformer_encoder.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _count, _hint, _report


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
