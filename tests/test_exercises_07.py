"""Notebook 07's self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises


def unfinished(*args):
    raise NotImplementedError


def test_masked_mean_check(verdict):
    check = exercises.check_07_masked_mean

    def right(h, mask):
        m = mask[..., None]
        return (h * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1)

    assert verdict(check, right, "Correct")
    assert not verdict(check, lambda h, m: h.mean(axis=1), "averaged the padding")
    assert not verdict(check, lambda h, m: (h * m[..., None]).sum(axis=1) / h.shape[1], "divided by n")
    assert not verdict(check, lambda h, m: (h * m[..., None]).sum(axis=1) / m.sum(axis=1, keepdims=True),
                       "NaN")
    assert not verdict(check, lambda h, m: (h * m[..., None]).mean(axis=2), "axis=1")
    assert not verdict(check, unfinished, "not implemented yet")


def test_confident_mistakes_check(verdict):
    check = exercises.check_07_confident_mistakes

    def right(p, labels, k):
        wrong = np.flatnonzero((p > 0.5) != labels)
        return wrong[np.argsort(-np.abs(p[wrong] - 0.5))][:k]

    assert verdict(check, right, "Correct")
    assert not verdict(check, lambda p, y, k: np.argsort(-np.abs(p - 0.5))[:k], "keep only the mistakes")
    assert not verdict(check, lambda p, y, k: right(p, y, 4)[::-1][:k], "least confident")
    assert not verdict(check, lambda p, y, k: np.sort(right(p, y, k)), "most confident")
    assert not verdict(check, lambda p, y, k: right(p, y, k)[:2], "k = 3")
    assert not verdict(check, unfinished, "not implemented yet")


def test_token_dropout_check(verdict):
    check = exercises.check_07_token_dropout

    def right(ids, rate, rng):
        drop = (rng.random(ids.shape) < rate) & (ids > 1)
        return np.where(drop, 1, ids)

    assert verdict(check, right, "Correct")
    assert not verdict(check, lambda ids, r, g: np.where((g.random(ids.shape) < r) & (ids > 1), 0, ids),
                       "became 0")
    assert not verdict(check, lambda ids, r, g: np.where(g.random(ids.shape) < r, 1, ids),
                       "padding (id 0) changed")
    assert not verdict(check, lambda ids, r, g: np.where((g.random(ids.shape) >= r) & (ids > 1), 1, ids),
                       "not to keep")
    assert not verdict(check, lambda ids, r, g: ids, "about a quarter")
    assert not verdict(check, unfinished, "not implemented yet")


def test_confident_mistakes_check_explains_sorting_by_p(verdict):
    check = exercises.check_07_confident_mistakes

    def by_p(p, labels, k):
        wrong = np.flatnonzero((p > 0.5) != labels)
        return wrong[np.argsort(-p[wrong])][:k]

    assert not verdict(check, by_p, "not by p itself")
