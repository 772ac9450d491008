"""helpers.training against hand formulas and plain loops: the learning-rate
schedule, batches of similar length, predictions made bucket by bucket, and the weights cache."""
import math

import numpy as np
import pytest
import keras

from helpers.training import learning_rates, length_buckets, load_or_fit, predict_in_buckets, warmup_cosine

RNG = np.random.default_rng(0)


def padded(lengths, seq_len=40, vocab=50):
    """Rows of random ids 1..vocab-1 of the given lengths, 0-padded at the end."""
    ids = np.zeros((len(lengths), seq_len), dtype="int32")
    for row, n in enumerate(lengths):
        ids[row, :n] = RNG.integers(1, vocab, size=n)
    return ids


# warmup_cosine


def test_warmup_cosine_follows_the_formula():
    peak, total, warmup, alpha = 2e-3, 50, 10, 0.1
    got = learning_rates(warmup_cosine(peak, total, warmup, alpha), total)
    want = [peak * t / warmup if t <= warmup else
            peak * (alpha + (1 - alpha) * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))) / 2)
            for t in range(total)]
    assert np.allclose(got, want, rtol=1e-5, atol=1e-9)


def test_without_warmup_the_rate_starts_at_peak():
    rates = learning_rates(warmup_cosine(1e-3, 20), 20)
    assert rates[0] == pytest.approx(1e-3) and np.all(np.diff(rates) <= 0)


def test_alpha_one_ramps_up_then_stays_at_peak():
    rates = learning_rates(warmup_cosine(1e-3, 20, 5, alpha=1.0), 20)
    assert np.allclose(rates[5:], 1e-3) and rates[0] == 0.0


def test_schedule_survives_a_save_with_the_optimizer(tmp_path):
    schedule = warmup_cosine(1e-3, 100, 10)
    config = keras.optimizers.schedules.serialize(schedule)
    again = keras.optimizers.schedules.deserialize(config)
    assert np.allclose(learning_rates(again, 100), learning_rates(schedule, 100))


# length_buckets


def test_every_row_comes_once_per_epoch_with_all_its_real_tokens():
    lengths = RNG.integers(1, 41, size=203)
    ids, labels = padded(lengths), np.arange(203)
    data = length_buckets(ids, labels, batch_size=16, multiple=8, pool=4)
    for _ in range(2):
        seen = []
        for x, y in data:
            x, y = x.numpy(), y.numpy()
            assert x.shape[1] % 8 == 0 or x.shape[1] == 40
            assert x.shape[1] >= lengths[y].max(), "a real token was cut"
            assert np.array_equal(x, ids[y, : x.shape[1]])
            seen += list(y)
        assert sorted(seen) == list(range(203))


def test_buckets_are_narrower_than_padded_batches_and_reshuffle_each_epoch():
    lengths = np.concatenate([np.full(100, 4), np.full(100, 40)])
    ids, labels = padded(lengths), np.arange(200)
    data = length_buckets(ids, labels, batch_size=10, multiple=4, pool=20)
    first = [(x.shape[1], tuple(y.numpy())) for x, y in data]
    second = [(x.shape[1], tuple(y.numpy())) for x, y in data]
    assert sum(width == 4 for width, _ in first) >= 8, "short rows share narrow batches"
    assert [rows for _, rows in first] != [rows for _, rows in second]


# predict_in_buckets


def test_predictions_in_buckets_come_back_in_row_order():
    lengths = RNG.integers(1, 41, size=37)
    ids = padded(lengths)
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(50, 4, mask_zero=True),
                              keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(1)])
    got = predict_in_buckets(model, ids, batch_size=8)
    want = np.concatenate([model.predict_on_batch(ids[i:i + 1, :n]) for i, n in enumerate(lengths)])
    assert got.shape == (37, 1) and np.allclose(got, want, atol=1e-5)


# Bad inputs


@pytest.mark.parametrize("call, error, message", [
    (lambda: warmup_cosine(0.0, 10), ValueError, r"peak must be a positive learning rate; got 0.0"),
    (lambda: warmup_cosine(1e-3, 10, 10), ValueError,
     r"warmup_steps must lie in \[0, total_steps\).*got warmup_steps = 10, total_steps = 10"),
    (lambda: warmup_cosine(1e-3, 10.0), TypeError, r"total_steps must be an int number of optimizer steps"),
    (lambda: warmup_cosine(1e-3, 10, alpha=2), ValueError, r"alpha must be a fraction of peak in \[0, 1\]"),
    (lambda: learning_rates(warmup_cosine(1e-3, 10), 0), ValueError, r"total_steps must be a positive int"),
    (lambda: length_buckets(np.ones((4, 3)), np.ones(4)), ValueError,
     r"token_ids must be integers of shape \(n, seq_len\); got float64 of shape \(4, 3\)"),
    (lambda: length_buckets(np.ones((4, 3), "int32"), np.ones(5)), ValueError,
     r"labels must have one entry per row: 4 rows, 5 labels"),
    (lambda: length_buckets(np.ones((4, 3), "int32"), np.ones(4), batch_size=0), ValueError,
     r"batch_size must be a positive int; got 0"),
    (lambda: predict_in_buckets(None, np.ones(3, "int32")), ValueError,
     r"token_ids must be integers of shape \(n, seq_len\); got int32 of shape \(3,\)"),
])
def test_bad_input_raises_one_clear_error(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert type(caught.value) is error


def _tiny_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def test_load_or_fit_fits_once_then_loads_the_same_weights_and_record(tmp_path):
    calls = []

    def fit(model):
        calls.append(1)
        model.compile("sgd", "mse")
        model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=1, verbose=0)
        return {"loss": [0.5]}

    path = tmp_path / "m.weights.h5"
    fitted, record, cached = load_or_fit(path, {"epochs": 1}, _tiny_model, fit)
    assert (record, cached, len(calls)) == ({"loss": [0.5]}, False, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.weights.h5"]   # no partial file left
    assert not np.allclose(fitted.get_weights()[0], _tiny_model().get_weights()[0])   # fitting changed them
    loaded, record, cached = load_or_fit(path, {"epochs": 1}, _tiny_model, fit)
    assert (record, cached, len(calls)) == ({"loss": [0.5]}, True, 1)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), fitted.get_weights()))
    _, _, cached = load_or_fit(path, {"epochs": 2}, _tiny_model, fit)   # another setting: fitted again
    assert (cached, len(calls)) == (False, 2)


def test_load_or_fit_refuses_a_bad_path_or_a_setting_json_cannot_hold(tmp_path):
    with pytest.raises(ValueError, match=r"path must end in .weights.h5; got 'm.keras'"):
        load_or_fit(tmp_path / "m.keras", {}, _tiny_model, lambda model: {})
    with pytest.raises(TypeError, match="setting must hold only what JSON can write"):
        load_or_fit(tmp_path / "m.weights.h5", {"data": np.ones(3)}, _tiny_model, lambda model: {})
