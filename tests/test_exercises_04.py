"""Notebook 04's self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises


def padding(ids, pad_id):
    return (np.asarray(ids) != pad_id)[:, np.newaxis, :]


def causal(n):
    return np.tril(np.ones((n, n), dtype=bool))


def test_padding_mask_check(verdict):
    check = exercises.check_04_padding_mask
    assert verdict(check, padding, "Correct")
    assert not verdict(check, lambda ids, p: ids != p, "add an axis for the queries")
    assert not verdict(check, lambda ids, p: (ids != p)[:, :, None], "hides padding queries")
    assert not verdict(check, lambda ids, p: (ids == p)[:, None, :], "swapped")
    assert not verdict(check, lambda ids, p: (ids != 0)[:, None, :], "not with 0")
    assert not verdict(check, lambda ids, p: (ids != p)[:, None, :].astype(int), "boolean")

    def unfinished(ids, pad_id):
        raise NotImplementedError
    assert not verdict(check, unfinished, "not implemented yet")


def test_combined_mask_check(verdict):
    check = exercises.check_04_combined_mask
    n = 5
    assert verdict(check, lambda ids, p: padding(ids, p) & causal(n), "Correct")
    assert not verdict(check, lambda ids, p: padding(ids, p) | causal(n), "OR")
    assert not verdict(check, lambda ids, p: padding(ids, p) & causal(n).T, "upper triangle")
    assert not verdict(check, lambda ids, p: np.broadcast_to(causal(n), (3, n, n)),
                       "padding part is missing")
    assert not verdict(check, lambda ids, p: np.broadcast_to(padding(ids, p), (3, n, n)),
                       "causal part is missing")
    assert not verdict(check, lambda ids, p: (ids != p)[:, :, None] & causal(n), "hides queries")
    assert not verdict(check, lambda ids, p: causal(n), "one (n, n) mask")
    assert not verdict(check, padding, "padding mask alone")


def test_fully_masked_rows_check(verdict):
    check = exercises.check_04_fully_masked_rows
    assert verdict(check, lambda m: ~m.any(axis=-1), "Correct")
    assert verdict(check, lambda m: (~m).all(axis=-1), "Correct")
    assert not verdict(check, lambda m: m.any(axis=-1), "swapped")
    assert not verdict(check, lambda m: ~m.all(axis=-1), "ALL its keys")
    assert not verdict(check, lambda m: ~m.any(axis=-2), "columns")
    assert not verdict(check, lambda m: ~m.any(axis=-1, keepdims=True), "keepdims")
    assert not verdict(check, lambda m: (~m.any(axis=-1)).astype(int), "boolean")


def test_masked_softmax_check(verdict):
    check = exercises.check_04_masked_softmax

    def softmax(s):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def with_zeros(scores, mask):
        return np.where(mask, softmax(np.where(mask, scores, -1e9)), 0.0)

    assert verdict(check, with_zeros, "Correct")
    assert not verdict(check, lambda s, m: softmax(np.where(m, s, -np.inf)), "-inf - (-inf) = NaN")
    assert not verdict(check, lambda s, m: softmax(np.where(m, s, -1e9)), "uniform weights 1/5")
    assert not verdict(check, lambda s, m: softmax(s), "not applied")
    assert not verdict(check, lambda s, m: np.where(m, softmax(s), 0.0), "no longer sum to 1")
