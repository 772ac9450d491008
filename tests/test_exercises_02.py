"""Notebook 02's self-checks accept right answers and explain typical wrong ones."""
import ast
from collections import Counter
from pathlib import Path

import numpy as np

from helpers import exercises


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def self_attention(x, w_q, w_k, w_v, axis=-1, scale=None):
    q, k, v = x @ w_q, x @ w_k, x @ w_v
    scale = np.sqrt(w_k.shape[-1]) if scale is None else scale
    weights = softmax(q @ np.swapaxes(k, -1, -2) / scale, axis=axis)
    return weights @ v, weights


def check(fn, capsys, expected):
    """Run the self-check; return (its verdict, what it printed), and demand `expected` in it."""
    verdict = exercises.check_02_self_attention(fn)
    out = capsys.readouterr().out
    assert expected in out, out
    return verdict


def test_self_attention_check_accepts_the_layer_call(capsys):
    assert check(self_attention, capsys, "Correct")


def test_self_attention_check_explains_the_articles_query_axis(capsys):
    assert not check(lambda *a: self_attention(*a, axis=1), capsys, "query axis")


def test_self_attention_check_explains_missing_or_wrong_scale(capsys):
    assert not check(lambda *a: self_attention(*a, scale=1.0), capsys, "miss the scaling")
    assert not check(lambda x, q, k, v: self_attention(x, q, k, v, scale=q.shape[-1]), capsys,
                     "square root")


def test_self_attention_check_explains_unprojected_inputs(capsys):
    def no_projection(x, w_q, w_k, w_v):
        weights = softmax(x @ np.swapaxes(x, -1, -2) / np.sqrt(x.shape[-1]))
        return weights @ (x @ w_v), weights
    assert not check(no_projection, capsys, "project first")


def test_self_attention_check_explains_values_not_projected(capsys):
    def mixes_x(x, w_q, w_k, w_v):
        _, weights = self_attention(x, w_q, w_k, w_v)
        return weights @ x, weights
    assert not check(mixes_x, capsys, "values v = x w_v")


def test_self_attention_check_reports_a_missing_pair(capsys):
    assert not check(lambda *a: self_attention(*a)[0], capsys, "must return (output, weights)")


def test_softmax_axis_check_names_the_axis_used(capsys):
    assert exercises.check_02_softmax_axis(lambda s: softmax(s, axis=-1))
    assert "Correct" in capsys.readouterr().out
    assert exercises.check_02_softmax_axis(lambda s: softmax(s, axis=3))
    for axis, name in ((2, "query axis"), (1, "head axis"), (0, "batch axis")):
        assert not exercises.check_02_softmax_axis(lambda s, a=axis: softmax(s, axis=a))
        assert name in capsys.readouterr().out


def test_softmax_axis_check_explains_a_non_softmax(capsys):
    assert not exercises.check_02_softmax_axis(lambda s: s / s.sum(axis=-1, keepdims=True))
    assert "not a softmax" in capsys.readouterr().out


def test_parameter_count_check(capsys):
    assert exercises.check_02_parameter_count(lambda d, u: 3 * d * u)
    assert "Correct" in capsys.readouterr().out
    for wrong, why in (
        (lambda d, u: 3 * (d * u + u), "no bias"),
        (lambda d, u: 4 * d * u, "W_O"),
        (lambda d, u: 3 * u * u, "(d_model, units)"),
        (lambda d, u: "many", "one whole number"),
    ):
        assert not exercises.check_02_parameter_count(wrong)
        assert why in capsys.readouterr().out


def cross_attention(x_q, x_kv, w_q, w_k, w_v, axis=-1):
    q, k, v = x_q @ w_q, x_kv @ w_k, x_kv @ w_v
    return softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(w_k.shape[-1]), axis=axis) @ v


def test_cross_attention_check(capsys):
    assert exercises.check_02_cross_attention(cross_attention)
    assert "Correct" in capsys.readouterr().out
    for wrong, why in (
        (lambda x_q, x_kv, *w: cross_attention(x_q, x_q, *w), "self-attention on x_q"),
        (lambda x_q, x_kv, *w: cross_attention(x_kv, x_kv, *w), "one per query"),
        (lambda *a: cross_attention(*a, axis=1), "the queries"),
    ):
        assert not exercises.check_02_cross_attention(wrong)
        assert why in capsys.readouterr().out


def test_every_self_check_is_defined_once_and_exported():
    # Each notebook's checks live in their own module of helpers/exercises/; a
    # check_ name defined in two of them would silently replace the other in
    # the package's re-exports and break the earlier notebook's exercise.
    defined = Counter()
    for module in sorted(Path(exercises.__file__).parent.glob("nb*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        defined.update(node.name for node in tree.body
                       if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"))
    assert [name for name, count in defined.items() if count > 1] == []
    assert sorted(defined) == exercises.__all__, "every check is importable from helpers.exercises"
    for name in defined:
        module = getattr(exercises, name).__module__
        assert module.startswith(f"helpers.exercises.nb{name[6:8]}_"), (name, module)
