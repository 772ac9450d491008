"""The self-checks of notebook 06 accept right answers and explain typical wrong ones."""
import numpy as np
import keras

from helpers import exercises
from helpers.layers import PositionalEmbedding, TransformerEncoderBlock


def right_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
    block = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + d_model + 4 * d_model
    return (vocab_size + max_length) * d_model + num_layers * block + (2 * d_model if norm_first else 0)


def keras_encoder_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
    ids = keras.Input(shape=(max_length,), dtype="int32")
    h = PositionalEmbedding(vocab_size, max_length, d_model)(ids)
    for _ in range(num_layers):
        h = TransformerEncoderBlock(d_model, num_heads, d_ff, norm_first=norm_first)(h)
    if norm_first:
        h = keras.layers.LayerNormalization()(h)
    return keras.Model(ids, h).count_params()


def layer_norm(z, gamma, beta, epsilon=1e-3):
    mean, var = z.mean(axis=-1, keepdims=True), z.var(axis=-1, keepdims=True)
    return gamma * (z - mean) / np.sqrt(var + epsilon) + beta


def right_add_and_norm(x, y, gamma, beta, epsilon=1e-3):
    return layer_norm(x + y, gamma, beta, epsilon)


def right_sublayer(x, sublayer, gamma, beta, norm_first):
    if norm_first:
        return x + sublayer(layer_norm(x, gamma, beta))
    return layer_norm(x + sublayer(x), gamma, beta)


def right_dropout(z, rate, rng):
    return np.where(rng.random(z.shape) >= rate, z / (1 - rate), 0.0)


# 06.1 parameters of an encoder


def test_right_encoder_count_equals_keras_and_is_accepted(capsys):
    for args in ((50, 20, 16, 4, 40, 3, True), (30, 12, 24, 3, 64, 2, False)):
        assert right_count(*args) == keras_encoder_count(*args)
    assert exercises.check_06_encoder_parameters(right_count)
    assert "Correct" in capsys.readouterr().out


def test_encoder_count_check_explains_missing_positions(capsys):
    def no_positions(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
        return right_count(vocab_size, 0, d_model, num_heads, d_ff, num_layers, norm_first)
    assert not exercises.check_06_encoder_parameters(no_positions)
    assert "position embedding" in capsys.readouterr().out


def test_encoder_count_check_explains_that_heads_do_not_count(capsys):
    def per_head(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
        extra = num_layers * (num_heads - 1) * 4 * (d_model * d_model + d_model)
        return right_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first) + extra
    assert not exercises.check_06_encoder_parameters(per_head)
    assert "number of heads does not change" in capsys.readouterr().out


def test_encoder_count_check_explains_the_final_layer_norm_of_pre_ln(capsys):
    def never_final(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
        return right_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, False)
    assert not exercises.check_06_encoder_parameters(never_final)
    assert "ends with one more LayerNorm" in capsys.readouterr().out

    def always_final(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
        return right_count(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, True)
    assert not exercises.check_06_encoder_parameters(always_final)
    assert "only a pre-LN stack" in capsys.readouterr().out


def test_encoder_count_check_explains_one_block_only(capsys):
    def one_block(vocab_size, max_length, d_model, num_heads, d_ff, num_layers, norm_first):
        return right_count(vocab_size, max_length, d_model, num_heads, d_ff, 1, norm_first)
    assert not exercises.check_06_encoder_parameters(one_block)
    assert "num_layers of them" in capsys.readouterr().out


def test_encoder_count_check_rejects_a_non_integer(capsys):
    assert not exercises.check_06_encoder_parameters(lambda *args: 1.5)
    assert "whole number" in capsys.readouterr().out


# 06.2 add & norm


def test_add_and_norm_check_accepts_layer_norm_of_the_sum_and_agrees_with_keras(capsys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 3, 8)).astype("float32"), rng.normal(size=(2, 3, 8)).astype("float32")
    norm = keras.layers.LayerNormalization()
    norm.build(x.shape)
    gamma, beta = (w.numpy() for w in (norm.gamma, norm.beta))
    assert np.allclose(right_add_and_norm(x, y, gamma, beta), keras.ops.convert_to_numpy(norm(x + y)), atol=1e-5)
    assert exercises.check_06_add_and_norm(right_add_and_norm)
    assert "Correct" in capsys.readouterr().out


def test_add_and_norm_check_explains_a_missing_residual(capsys):
    assert not exercises.check_06_add_and_norm(lambda x, y, g, b, e=1e-3: layer_norm(y, g, b, e))
    assert "add the residual first" in capsys.readouterr().out


def test_add_and_norm_check_explains_the_wrong_axis(capsys):
    def over_tokens(x, y, gamma, beta, epsilon=1e-3):
        z = x + y
        mean, var = z.mean(axis=1, keepdims=True), z.var(axis=1, keepdims=True)
        return gamma * (z - mean) / np.sqrt(var + epsilon) + beta
    assert not exercises.check_06_add_and_norm(over_tokens)
    assert "over the tokens (axis 1)" in capsys.readouterr().out


def test_add_and_norm_check_explains_epsilon_outside_the_root(capsys):
    def outside(x, y, gamma, beta, epsilon=1e-3):
        z = x + y
        return gamma * (z - z.mean(-1, keepdims=True)) / (z.std(-1, keepdims=True) + epsilon) + beta
    assert not exercises.check_06_add_and_norm(outside)
    assert "inside the square root" in capsys.readouterr().out


def test_add_and_norm_check_explains_swapped_gamma_and_beta(capsys):
    assert not exercises.check_06_add_and_norm(lambda x, y, g, b, e=1e-3: layer_norm(x + y, b, g, e))
    assert "swapped" in capsys.readouterr().out


# 06.3 pre-LN and post-LN


def test_sublayer_check_accepts_both_orders(capsys):
    assert exercises.check_06_pre_post_ln(right_sublayer)
    assert "Correct" in capsys.readouterr().out


def test_sublayer_check_explains_swapped_orders(capsys):
    def swapped(x, sublayer, gamma, beta, norm_first):
        return right_sublayer(x, sublayer, gamma, beta, not norm_first)
    assert not exercises.check_06_pre_post_ln(swapped)
    assert "swapped" in capsys.readouterr().out


def test_sublayer_check_explains_a_normalised_residual_in_pre_ln(capsys):
    def normalised_residual(x, sublayer, gamma, beta, norm_first):
        if norm_first:
            h = layer_norm(x, gamma, beta)
            return h + sublayer(h)
        return right_sublayer(x, sublayer, gamma, beta, False)
    assert not exercises.check_06_pre_post_ln(normalised_residual)
    assert "add the original x" in capsys.readouterr().out


def test_sublayer_check_explains_ignoring_norm_first(capsys):
    assert not exercises.check_06_pre_post_ln(lambda x, f, g, b, norm_first: layer_norm(x + f(x), g, b))
    assert "same result" in capsys.readouterr().out


# 06.4 dropout


def test_dropout_check_accepts_inverted_dropout(capsys):
    assert exercises.check_06_dropout(right_dropout)
    assert "Correct" in capsys.readouterr().out


def test_dropout_check_explains_missing_scaling(capsys):
    assert not exercises.check_06_dropout(lambda z, rate, rng: np.where(rng.random(z.shape) >= rate, z, 0.0))
    assert "Divide them by" in capsys.readouterr().out


def test_dropout_check_explains_keep_probability_taken_for_rate(capsys):
    def keeps_rate(z, rate, rng):
        return np.where(rng.random(z.shape) < rate, z / (1 - rate), 0.0)
    assert not exercises.check_06_dropout(keeps_rate)
    assert "probability of dropping" in capsys.readouterr().out


def test_dropout_check_reports_an_unfinished_exercise(capsys):
    def todo(z, rate, rng):
        raise NotImplementedError
    assert not exercises.check_06_dropout(todo)
    assert "not implemented yet" in capsys.readouterr().out
