"""Notebook 08's self-checks accept right answers and explain typical wrong ones."""
import numpy as np

from helpers import exercises


def unfinished(*args):
    raise NotImplementedError


def test_lstm_params_check(verdict):
    check = exercises.check_08_lstm_params
    assert verdict(check, lambda d, u: 4 * u * (d + u + 1), "Correct")
    assert not verdict(check, lambda d, u: u * (d + u + 1), "four")
    assert not verdict(check, lambda d, u: 4 * u * (d + 1), "recurrent")
    assert not verdict(check, lambda d, u: 4 * u * (d + u), "biases")
    assert not verdict(check, unfinished, "not implemented yet")


def test_lstm_params_check_agrees_with_keras():
    import keras

    layer = keras.layers.LSTM(16)
    layer.build((None, None, 40))
    assert layer.count_params() == 4 * 16 * (40 + 16 + 1)


def test_keep_last_check(verdict):
    check = exercises.check_08_keep_last

    def right(ids, n):
        out = np.zeros((len(ids), n), dtype=ids.dtype)
        for row, tokens in enumerate(ids):
            last = tokens[tokens != 0][-n:]
            out[row, :len(last)] = last
        return out

    assert verdict(check, right, "Correct")
    assert not verdict(check, lambda ids, n: ids[:, -n:], "REAL tokens")
    assert not verdict(check, lambda ids, n: ids[:, :n], "first 4")

    def pre_padded(ids, n):
        return np.stack([np.pad(row[row != 0][-n:], (n - len(row[row != 0][-n:]), 0)) for row in ids])

    assert not verdict(check, pre_padded, "post-padding")
    assert not verdict(check, unfinished, "not implemented yet")


def test_attention_entropy_check(verdict):
    check = exercises.check_08_attention_entropy

    def right(w):
        return -np.sum(np.where(w > 0, w * np.log(np.where(w > 0, w, 1)), 0), axis=-1)

    assert verdict(check, right, "Correct")
    assert not verdict(check, lambda w: -np.sum(w * np.log(w), axis=-1), "NaN")
    assert not verdict(check, lambda w: right(w) / np.log(2), "bits")
    assert not verdict(check, lambda w: -right(w), "sign")
    assert not verdict(check, lambda w: right(np.swapaxes(w, -1, -2)), "per query")
    assert not verdict(check, unfinished, "not implemented yet")
