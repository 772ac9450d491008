"""Self-checks for the exercises of notebook 05_positional_encoding.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _reference_softmax, _report


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
