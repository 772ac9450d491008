"""The self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises


def right_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_softmax_check_accepts_stable_softmax(capsys):
    assert exercises.check_01_softmax(right_softmax)
    assert "Correct" in capsys.readouterr().out


def test_softmax_check_explains_overflow(capsys):
    def naive(x):
        return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    assert not exercises.check_01_softmax(naive)
    assert "overflows" in capsys.readouterr().out


def test_softmax_check_explains_wrong_axis(capsys):
    def columns(x):
        e = np.exp(x - x.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)
    assert not exercises.check_01_softmax(columns)
    assert "columns sum to 1" in capsys.readouterr().out


def test_unfinished_exercise_is_reported_not_raised(capsys):
    def todo(x):
        raise NotImplementedError
    assert not exercises.check_01_softmax(todo)
    assert "not implemented yet" in capsys.readouterr().out


def test_scores_check_explains_missing_scale(capsys):
    assert not exercises.check_01_scores(lambda q, k: q @ k.T)
    assert "sqrt(d_k)" in capsys.readouterr().out
    assert exercises.check_01_scores(lambda q, k: q @ k.T / np.sqrt(q.shape[-1]))


def test_attention_check_explains_query_axis_softmax(capsys):
    def wrong_axis(q, k, v):
        s = q @ k.T / np.sqrt(q.shape[-1])
        w = np.exp(s) / np.exp(s).sum(axis=0, keepdims=True)
        return w @ v, w
    assert not exercises.check_01_attention(wrong_axis)
    assert "query axis" in capsys.readouterr().out

    def right(q, k, v):
        w = right_softmax(q @ k.T / np.sqrt(q.shape[-1]))
        return w @ v, w
    assert exercises.check_01_attention(right)


def test_causal_mask_check_explains_upper_triangle(capsys):
    assert not exercises.check_01_causal_mask(lambda n: np.triu(np.ones((n, n), dtype=bool)))
    assert "future" in capsys.readouterr().out
    assert exercises.check_01_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool)))
