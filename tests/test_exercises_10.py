"""The self-checks of notebook 10 accept right answers and explain typical wrong ones."""
import numpy as np
import pytest

from helpers.exercises import check_10_cache_step, check_10_distinct_n, check_10_perplexities, check_10_top_p


def top_p(probs, p, crossing=True, renormalise=True, ranked=False, ascending=False):
    order = np.argsort(probs if ascending else -probs, kind="stable")
    mass = np.cumsum(probs[order])
    keep = (mass - probs[order] < p) if crossing else (mass < p)
    kept = np.zeros_like(probs)
    kept[order[keep]] = probs[order[keep]]
    if ranked:
        kept = np.sort(kept)[::-1]
    return kept / kept.sum() if renormalise else kept


def distinct(texts, n):
    grams = [tuple(w[i:i + n]) for w in (t.split() for t in texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def cache_step(q, k_cache, v_cache, k_new, v_new, t, mask=True, at=None, scale=True, append=False):
    if append:
        k_cache, v_cache = np.vstack([k_cache, k_new]), np.vstack([v_cache, v_new])
    else:
        k_cache[t if at is None else at], v_cache[t if at is None else at] = k_new, v_new
    end = t + 1 if mask else len(k_cache)
    scores = k_cache[:end] @ q / (np.sqrt(len(q)) if scale else 1.0)
    return softmax(scores) @ v_cache[:end], k_cache, v_cache


def not_implemented(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check, answer", [
    (check_10_top_p, top_p),
    (check_10_perplexities, lambda nll, words: (np.exp(nll.mean()), np.exp(nll.sum() / words))),
    (check_10_distinct_n, distinct),
    (check_10_cache_step, cache_step),
])
def test_right_answers_are_accepted(check, answer, verdict):
    assert verdict(check, answer, "Correct:") is True


@pytest.mark.parametrize("check, answer, explanation", [
    (check_10_top_p, not_implemented, "not implemented yet"),
    (check_10_top_p, lambda p, q: top_p(p, q, crossing=False), "crosses p must be kept"),
    (check_10_top_p, lambda p, q: top_p(p, q, renormalise=False), "renormalise"),
    (check_10_top_p, lambda p, q: top_p(p, q, ranked=True), "back at its token's id"),
    (check_10_top_p, lambda p, q: top_p(p, q, ascending=True), "every token was kept"),
    (check_10_perplexities, lambda nll, w: (np.exp(nll.sum() / w), np.exp(nll.mean())), "swapped"),
    (check_10_perplexities, lambda nll, w: (2 ** nll.mean(), 2 ** (nll.sum() / w)), "nats"),
    (check_10_perplexities, lambda nll, w: (np.exp(nll).mean(), 1.0), "not the mean of exp"),
    (check_10_perplexities, lambda nll, w: (np.exp(nll.mean()), np.exp(nll.mean()) * len(nll) / w),
     "per_token ** (tokens / words)"),
    (check_10_perplexities, lambda nll, w: np.exp(nll.mean()), "two numbers"),
    (check_10_distinct_n, lambda texts, n: distinct(texts, 1), "distinct-1"),
    (check_10_distinct_n, lambda texts, n: distinct([" ".join(texts)], n), "joined"),
    (check_10_distinct_n, lambda texts, n: np.mean([distinct([t], n) for t in texts]), "averages"),
    (check_10_distinct_n, lambda texts, n: 1 / distinct(texts, n), "upside down"),
    (check_10_cache_step, not_implemented, "not implemented yet"),
    (check_10_cache_step, lambda *a: cache_step(*a, append=True), "keeps its shape"),
    (check_10_cache_step, lambda *a: cache_step(*a, at=a[-1] + 1), "row t = 3"),
    (check_10_cache_step, lambda *a: cache_step(*a, mask=False), "mask positions > t"),
    (check_10_cache_step, lambda *a: cache_step(*a, scale=False), "sqrt(d_k)"),
])
def test_wrong_answers_are_explained(check, answer, explanation, verdict):
    assert verdict(check, answer, explanation) is False
