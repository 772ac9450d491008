"""Notebook 03's self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises


def split_heads(x, num_heads):
    batch, n, d_model = x.shape
    return x.reshape(batch, n, num_heads, d_model // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    batch, num_heads, n, key_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, n, num_heads * key_dim)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def multi_head(x, w_q, w_k, w_v, w_o, num_heads, scale=None, project=True):
    q, k, v = (split_heads(x @ w, num_heads) for w in (w_q, w_k, w_v))
    scale = np.sqrt(q.shape[-1]) if scale is None else scale
    weights = softmax(q @ np.swapaxes(k, -1, -2) / scale)
    heads = merge_heads(weights @ v)
    return (heads @ w_o if project else heads), weights


def test_split_heads_check(verdict):
    check = exercises.check_03_split_heads
    assert verdict(check, split_heads, "Correct")
    assert not verdict(check, lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1),
                       "reshaped straight")
    assert not verdict(check, lambda x, h: x.reshape(*x.shape[:2], -1, h).transpose(0, 3, 1, 2),
                       "interleaved")
    assert not verdict(check, lambda x, h: x.reshape(*x.shape[:2], h, -1),
                       "move the head axis")
    assert not verdict(check, lambda x, h: split_heads(x, 3), "with 4 heads")


def test_merge_heads_check(verdict):
    check = exercises.check_03_merge_heads
    assert verdict(check, merge_heads, "Correct")
    assert not verdict(check, lambda x: x.reshape(x.shape[0], x.shape[2], -1),
                       "without moving the head axis")
    assert not verdict(check, lambda x: x.transpose(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1),
                       "interleaved")


def test_parameter_count_check(verdict):
    check = exercises.check_03_parameter_count

    def count(without=()):
        def fn(d, h, k):
            parts = {"W": 4 * d * h * k, "b_qkv": 3 * h * k, "b_o": d}
            return sum(v for name, v in parts.items() if name not in without)
        return fn

    assert verdict(check, count(), "Correct")
    assert not verdict(check, count(without=("b_qkv", "b_o")), "bias to every projection")
    assert not verdict(check, lambda d, h, k: 3 * d * h * k + 3 * h * k, "left out the output")
    assert not verdict(check, lambda d, h, k: 4 * d * h * k + 4 * h * k, "one entry per output")
    assert not verdict(check, lambda d, h, k: 4 * d * d + 4 * d, "need not equal d_model")
    assert not verdict(check, lambda d, h, k: 4 * d * k + 3 * k + d, "multiply by num_heads")


def test_multi_head_attention_check(verdict):
    check = exercises.check_03_multi_head_attention
    assert verdict(check, multi_head, "Correct")
    assert not verdict(check, lambda *a: multi_head(*a, scale=np.sqrt(a[0].shape[-1])),
                       "sqrt(d_model)")
    assert not verdict(check, lambda *a: multi_head(*a, project=False), "W_O")

    def one_head(x, w_q, w_k, w_v, w_o, num_heads):
        return multi_head(x, w_q, w_k, w_v, w_o, 1)
    assert not verdict(check, one_head, "one head")
    assert not verdict(check, lambda *a: multi_head(*a)[0], "must return (output, weights)")
