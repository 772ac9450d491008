"""A catalogue of bad inputs to every public helper.

Each case must raise one clear ValueError or TypeError whose message names
the argument (and, where there is one, the shape expected and the shape
given), so a student sees what to fix instead of a stack trace from deep
inside NumPy or Keras.
"""
import matplotlib
import numpy as np
import pytest

from helpers import attention, data, layers, masks, plots, widgets

matplotlib.use("Agg")

ONES = np.ones
NAN_Q = np.full((2, 4), np.nan)


def built(layer, *shapes):
    """`layer` called once on zeros of `shapes`, so its weights exist."""
    layer(*(np.zeros(s, dtype="float32") for s in shapes))
    return layer


def embedding(**options):
    return layers.PositionalEmbedding(vocab_size=10, max_length=6, d_model=4, **options)


CASES = [
    # helpers.attention: wrong rank, wrong last dimension, mismatched batch, masks, NaN/inf, empty
    ("attention: q of rank 1", lambda: attention.scaled_dot_product_attention(ONES(4), ONES((3, 4)), ONES((3, 2))),
     ValueError, r"q must have rank >= 2.*got shape \(4,\)"),
    ("attention: k's d_k differs from q's", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((3, 5)), ONES((3, 2))),
     ValueError, r"k must have the same last dimension d_k.*got shape \(3, 5\)"),
    ("attention: v has another n_k than k", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((3, 4)), ONES((4, 2))),
     ValueError, r"v must have one row per key.*got shape \(4, 2\)"),
    ("attention: q and k batches clash", lambda: attention.scaled_dot_product_attention(ONES((2, 2, 4)), ONES((3, 3, 4)), ONES((3, 3, 2))),
     ValueError, r"q and k must have broadcastable batch dimensions: got q \(2, 2, 4\), k \(3, 3, 4\)"),
    ("attention: v batch clashes", lambda: attention.scaled_dot_product_attention(ONES((2, 2, 4)), ONES((2, 3, 4)), ONES((5, 3, 2))),
     ValueError, r"v must have batch dimensions that broadcast.*got shape \(5, 3, 2\)"),
    ("attention: mask of the wrong shape", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((3, 4)), ONES((3, 2)), attention_mask=ONES((3, 3), bool)),
     ValueError, r"attention_mask must broadcast to \(\.\.\., n_q, n_k\) = \(2, 3\); got shape \(3, 3\)"),
    ("attention: mask of the wrong dtype", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((3, 4)), ONES((3, 2)), attention_mask=ONES((2, 3))),
     TypeError, r"attention_mask must be boolean.*got dtype float64"),
    ("attention: NaN query", lambda: attention.scaled_dot_product_attention(NAN_Q, ONES((3, 4)), ONES((3, 2))),
     ValueError, r"q of shape \(2, 4\) holds 8 NaN or infinite values"),
    ("attention: infinite value", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((3, 4)), np.full((3, 2), np.inf)),
     ValueError, r"v of shape \(3, 2\) holds 6 NaN or infinite values"),
    ("attention: empty key sequence", lambda: attention.scaled_dot_product_attention(ONES((2, 4)), ONES((0, 4)), ONES((0, 2))),
     ValueError, r"at least one feature and one key: got q \(2, 4\), k \(0, 4\)"),
    ("attention: text instead of numbers", lambda: attention.scaled_dot_product_attention(np.array([["a"]]), ONES((1, 1)), ONES((1, 1))),
     TypeError, r"q must hold numbers, got dtype <U1"),
    ("softmax: NaN input", lambda: attention.softmax([1.0, np.nan]),
     ValueError, r"x of shape \(2,\) holds 1 NaN"),
    ("softmax: mask of the wrong shape", lambda: attention.softmax(ONES((2, 3)), mask=ONES((2, 2), bool)),
     ValueError, r"mask must broadcast to x.shape = \(2, 3\); got shape \(2, 2\)"),
    ("scores: d_k differs", lambda: attention.attention_scores(ONES((2, 3)), ONES((2, 4))),
     ValueError, r"k must have the same last dimension d_k as q: q has shape \(2, 3\)"),
    # helpers.masks
    ("padding_mask: float token ids", lambda: masks.padding_mask(ONES((2, 3))),
     TypeError, r"token_ids must hold integer token ids; got dtype float"),
    ("padding_mask: token ids of rank 1", lambda: masks.padding_mask(np.array([1, 2, 0])),
     ValueError, r"token_ids must have shape \(batch, n\); got shape \(3,\)"),
    ("causal_mask: zero length", lambda: masks.causal_mask(0),
     ValueError, r"n_q must be a positive integer; got 0"),
    ("causal_mask: fractional length", lambda: masks.causal_mask(2.5),
     TypeError, r"n_q must be a positive integer; got 2.5"),
    ("combine_masks: shapes clash", lambda: masks.combine_masks(ONES((2, 1, 3), bool), ONES((4, 4), bool)),
     ValueError, r"masks\[1\] must broadcast with the masks before it, shape \(2, 1, 3\); got shape \(4, 4\)"),
    ("combine_masks: non-boolean mask", lambda: masks.combine_masks(ONES((3, 3), bool), ONES((3, 3))),
     TypeError, r"masks\[1\] must be boolean"),
    # helpers.layers
    ("SelfAttention: x of rank 2", lambda: layers.SelfAttention(4)(ONES((5, 4), "float32")),
     ValueError, r"x must have shape \(batch, n, d_model\); got shape \(5, 4\)"),
    ("SelfAttention: wrong last dimension", lambda: built(layers.SelfAttention(4), (1, 3, 4))(ONES((1, 3, 6), "float32")),
     ValueError, r"x must have shape \(batch, n, 4\); got shape \(1, 3, 6\)"),
    ("SelfAttention: mask of the wrong shape", lambda: layers.SelfAttention(4)(ONES((2, 3, 4), "float32"), mask=ONES((2, 5), bool)),
     ValueError, r"mask must be a padding mask \(batch, n\) = \(2, 3\), True at real tokens; got shape \(2, 5\)"),
    ("SelfAttention: a query x key mask as mask", lambda: layers.SelfAttention(4)(ONES((2, 3, 4), "float32"), mask=ONES((2, 3, 3), bool)),
     ValueError, r"mask must be a padding mask \(batch, n\) = \(2, 3\).*got shape \(2, 3, 3\)\. Pass a query x key mask.*as attention_mask="),
    ("SelfAttention: attention_mask of the wrong shape", lambda: layers.SelfAttention(4)(ONES((2, 3, 4), "float32"), attention_mask=ONES((2, 5), bool)),
     ValueError, r"attention_mask must broadcast to \(batch, n_q, n_k\) = \(2, 3, 3\); got shape \(2, 5\)"),
    ("SelfAttention: mask of the wrong dtype", lambda: layers.SelfAttention(4)(ONES((2, 3, 4), "float32"), mask=ONES((2, 3), "float32")),
     TypeError, r"mask must be boolean"),
    ("MultiHeadAttention: value of another width", lambda: built(layers.MultiHeadAttention(2, 2), (1, 3, 4), (1, 3, 4))(ONES((1, 3, 4), "float32"), ONES((1, 3, 6), "float32")),
     ValueError, r"value must have shape \(1, 3, 4\); got shape \(1, 3, 6\)"),
    ("MultiHeadAttention: batches clash", lambda: layers.MultiHeadAttention(2, 2)(ONES((2, 3, 4), "float32"), ONES((3, 3, 4), "float32")),
     ValueError, r"value must have shape \(2, 3, 4\); got shape \(3, 3, 4\)"),
    ("MultiHeadAttention: mask of the wrong shape", lambda: layers.MultiHeadAttention(2, 2)(ONES((2, 3, 4), "float32"), ONES((2, 5, 4), "float32"), attention_mask=ONES((2, 3, 3), bool)),
     ValueError, r"attention_mask must broadcast to \(batch, n_q, n_k\) = \(2, 3, 5\); got shape \(2, 3, 3\)"),
    ("PositionalEmbedding: unknown token id", lambda: embedding()(np.array([[1, 2, 10]])),
     ValueError, r"token_ids must lie in \[0, vocab_size = 10\); got ids from 1 to 10"),
    ("PositionalEmbedding: negative token id", lambda: embedding()(np.array([[-1, 2]])),
     ValueError, r"token_ids must lie in \[0, vocab_size = 10\)"),
    ("PositionalEmbedding: float token ids", lambda: embedding()(ONES((1, 3), "float32")),
     TypeError, r"token_ids must hold integer token ids"),
    ("PositionalEmbedding: sequence longer than max_length", lambda: embedding()(ONES((1, 7), "int32")),
     ValueError, r"token_ids must have at most max_length = 6 positions.*got shape \(1, 7\)"),
    ("PositionalEmbedding: unknown kind", lambda: embedding(kind="rotary"),
     ValueError, r'kind must be "learned" or "sinusoidal"'),
    ("TransformerEncoderBlock: d_model not split by heads", lambda: layers.TransformerEncoderBlock(10, 3, 16),
     ValueError, r"d_model must split evenly into num_heads: got d_model = 10, num_heads = 3"),
    ("TransformerEncoderBlock: dropout out of range", lambda: layers.TransformerEncoderBlock(8, 2, 16, dropout=1.5),
     ValueError, r"dropout must be a rate in \[0, 1\); got 1.5"),
    ("TransformerEncoderBlock: x of another width", lambda: layers.TransformerEncoderBlock(8, 2, 16)(ONES((1, 3, 6), "float32")),
     ValueError, r"x must have shape \(batch, n, 8\); got shape \(1, 3, 6\)"),
    ("sinusoidal_encoding: zero depth", lambda: layers.sinusoidal_encoding(5, 0),
     ValueError, r"depth must be a positive integer; got 0"),
    ("copy_weights_from_keras: layers not built", lambda: layers.copy_weights_from_keras(layers.MultiHeadAttention(2, 2), __import__("keras").layers.MultiHeadAttention(2, 2)),
     ValueError, r"ours and keras_mha must be built"),
    # helpers.plots and helpers.widgets
    ("attention_heatmap: weights of rank 3", lambda: plots.attention_heatmap(ONES((2, 3, 3))),
     ValueError, r"weights must be 2-D \(n_q, n_k\); got shape \(2, 3, 3\)"),
    ("attention_heatmap: too few key tokens", lambda: plots.attention_heatmap(ONES((2, 3)), ["a", "b"], ["x", "y"]),
     ValueError, r"key_tokens must name every column \(key\) of weights: weights have 3, key_tokens has 2"),
    ("temperature_explorer: tokens do not fit", lambda: widgets.temperature_explorer(np.eye(3), np.eye(3), ["a", "b"]),
     ValueError, r"tokens must name the 3 positions"),
    ("weights_explorer: weights of the wrong rank", lambda: widgets.weights_explorer(ONES((3, 3)), ["a", "b", "c"], ("head",), stills=[{}]),
     ValueError, r"expected rank 3, got shape \(3, 3\)"),
    ("explorer: no top for the colour scale", lambda: widgets.explorer(None, None, stills=[{}], vmax=None),
     ValueError, r"vmax must be a positive number \(the top of the colour scale\); got None"),
    ("png_bytes: RGB, not RGBA", lambda: __import__("helpers.frames").frames.png_bytes(np.zeros((2, 3, 3), np.uint8)),
     ValueError, r"pixels must be \(h, w, 4\) uint8 RGBA; got uint8 of shape \(2, 3, 3\)"),
    # helpers.data
    ("load_imdb: unknown split", lambda: data.load_imdb("validation"),
     ValueError, r"split must be one of \['train', 'test', 'unsup'\]; got 'validation'"),
    ("stratified_subset: more than there is", lambda: data.stratified_subset(["a", "b"], np.array([0, 1]), 5),
     ValueError, r"n must be an int between 0 and len\(texts\) = 2; got 5"),
    ("split_by_english: no pairs", lambda: data.split_by_english([]),
     ValueError, r"pairs must hold at least one \(english, spanish\) pair"),
]


@pytest.mark.parametrize("call, error, message", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_raises_one_clear_error(call, error, message):
    with pytest.raises(error, match=message) as caught:
        call()
    assert type(caught.value) is error, "a subclass hides what kind of mistake it is"
