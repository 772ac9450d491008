"""The self-checks of notebook 09 accept right answers and explain typical wrong ones."""
import numpy as np
import pytest

from helpers.exercises import check_09_cross_attention, check_09_masked_accuracy, check_09_shift


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def cross_attention(y, h, w_q, w_k, w_v, source_mask, scale=True, use_mask=True, causal=False):
    q, k, v = y @ w_q, h @ w_k, h @ w_v
    scores = q @ k.T / (np.sqrt(k.shape[-1]) if scale else 1.0)
    allowed = source_mask[None, :] if use_mask else np.ones_like(scores, dtype=bool)
    if causal:
        allowed = allowed & np.tril(np.ones(scores.shape, dtype=bool))
    weights = softmax(np.where(allowed, scores, -np.inf))
    return weights @ v, weights


def accuracy(labels, logits):
    real = labels != 0
    return ((logits.argmax(-1) == labels) & real).sum() / real.sum()


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


def not_implemented(*args):
    raise NotImplementedError


@pytest.mark.parametrize("check, answer", [
    (check_09_shift, lambda t: (t[:, :-1], t[:, 1:])),
    (check_09_cross_attention, cross_attention),
    (check_09_masked_accuracy, accuracy),
])
def test_right_answers_are_accepted(check, answer, capsys):
    result, out = run(check, answer, capsys)
    assert result is True and out.startswith("Correct:")


@pytest.mark.parametrize("check, answer, explanation", [
    (check_09_shift, not_implemented, "not implemented yet"),
    (check_09_shift, lambda t: (t[:, 1:], t[:, :-1]), "swapped"),
    (check_09_shift, lambda t: (t[:, :-1], t[:, :-1]), "learn to copy"),
    (check_09_shift, lambda t: (t, t), "(batch, n - 1)"),
    (check_09_shift, lambda t: t[:, :-1], "must return two arrays"),
    (check_09_cross_attention, not_implemented, "not implemented yet"),
    (check_09_cross_attention,
     lambda y, h, wq, wk, wv, m: cross_attention(h, y, wq, wk, wv, np.ones(len(y), bool)), "transposed"),
    (check_09_cross_attention,
     lambda *a: cross_attention(*a, use_mask=False), "padding keys get weight"),
    (check_09_cross_attention, lambda *a: cross_attention(*a, causal=True), "no causal mask"),
    (check_09_cross_attention, lambda *a: cross_attention(*a, scale=False), "sqrt(d_k)"),
    (check_09_cross_attention,
     lambda *a: (cross_attention(*a)[1] @ a[1], cross_attention(*a)[1]), "weights @ (h W_V)"),
    (check_09_masked_accuracy, not_implemented, "not implemented yet"),
    (check_09_masked_accuracy, lambda l, g: (g.argmax(-1) == l).mean(), "counted the padding"),
    (check_09_masked_accuracy,
     lambda l, g: np.mean([accuracy(l[i:i + 1], g[i:i + 1]) for i in range(len(l))]), "per-sentence"),
    (check_09_masked_accuracy, lambda l, g: np.array([0.6, 0.6]), "one number"),
])
def test_typical_wrong_answers_are_explained(check, answer, explanation, capsys):
    result, out = run(check, answer, capsys)
    assert result is False and out.startswith("Not yet:") and explanation in out
