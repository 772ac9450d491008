"""Notebook 05's self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises
from helpers.layers import sinusoidal_encoding


def encoding(length, depth, layout="interleaved", exponent="2i", first=0):
    positions = np.arange(first, first + length)[:, None]
    if exponent == "2i":
        angles = positions / 10000 ** (np.arange(0, depth, 2) / depth)
        even, odd = np.sin(angles), np.cos(angles)
    else:  # each dimension k uses its own k / d
        angles = positions / 10000 ** (np.arange(depth) / depth)
        even, odd = np.sin(angles[:, 0::2]), np.cos(angles[:, 1::2])
    if layout == "concatenated":
        return np.concatenate([even, odd], axis=1)
    pe = np.zeros((length, depth))
    pe[:, 0::2], pe[:, 1::2] = (odd, even) if layout == "swapped" else (even, odd)
    return pe


def test_sinusoidal_encoding_check(verdict):
    check = exercises.check_05_sinusoidal_encoding
    assert verdict(check, encoding, "Correct")
    assert verdict(check, sinusoidal_encoding, "Correct")
    assert not verdict(check, lambda n, d: encoding(n, d, layout="swapped"), "swapped")
    assert not verdict(check, lambda n, d: encoding(n, d, layout="concatenated"), "sines first")
    assert not verdict(check, lambda n, d: encoding(n, d, exponent="k"), "own index k")
    assert not verdict(check, lambda n, d: encoding(n, d, first=1), "start at 1")
    assert not verdict(check, lambda n, d: encoding(n, d).T, "(depth, length)")


def test_permutation_test_check(verdict):
    check = exercises.check_05_permutation_test

    def gap(f, x, perm, rows=None, columns=None):
        rows = perm if rows is None else rows
        columns = perm if columns is None else columns
        return np.abs(f(x[:, perm]) - f(x)[:, rows][:, :, columns]).max()

    same = np.arange(5)
    inverse = np.argsort
    assert verdict(check, gap, "Correct")
    assert not verdict(check, lambda f, x, p: gap(f, x, p, columns=same), "rows (queries) only")
    assert not verdict(check, lambda f, x, p: gap(f, x, p, rows=same), "columns (keys) only")
    assert not verdict(check, lambda f, x, p: gap(f, x, p, rows=same, columns=same), "as it is")
    assert not verdict(check, lambda f, x, p: gap(f, x, p, inverse(p), inverse(p)), "inverse")
    assert not verdict(check, lambda f, x, p: np.abs(f(x[p]) - f(x)[p]).max(), "x[:, perm]")
    assert not verdict(check, lambda f, x, p: np.abs(f(x[:, p]) - f(x[:, p])).max(),
                       "not one of them with itself")
    assert not verdict(check, lambda f, x, p: np.abs(f(x[:, p]) - f(x)[:, p][:, :, p]).mean(),
                       "largest absolute difference is")
    assert not verdict(check, lambda f, x, p: np.abs(f(x[:, p]) - f(x)[:, p][:, :, p]),
                       "one number")


def test_offset_similarity_check(verdict):
    check = exercises.check_05_offset_similarity

    def similarity(k, depth):
        return np.cos(k / 10000 ** (np.arange(0, depth, 2) / depth)).sum()

    def from_codes(k, depth):
        codes = sinusoidal_encoding(30, depth).astype(float)
        return codes[10] @ codes[10 + k]

    assert verdict(check, similarity, "Correct")
    assert verdict(check, from_codes, "Correct")
    assert not verdict(check, lambda k, d: 2 * similarity(k, d), "not twice")
    assert not verdict(check, lambda k, d: np.sin(k / 10000 ** (np.arange(0, d, 2) / d)).sum(),
                       "cosines")
    assert not verdict(check, lambda k, d: np.cos(k / 10000 ** (np.arange(d) / d)).sum(),
                       "not depth")
