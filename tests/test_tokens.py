"""Byte-level BPE (helpers.tokens): no [UNK], exact round trips, streams and caches that match."""
import numpy as np
import pytest

from helpers.tokens import (EOT, EOT_ID, clean_review, encode_stream, load_or_encode, load_or_train_bpe,
                            token_strings, train_bpe)

CORPUS = [
    "This movie was great. The acting was great, the plot was great.",
    "This film was terrible; the actors were terrible and the plot made no sense.",
    "I loved the music and the camera work.<br /><br />Ten out of ten.",
] * 20


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe([clean_review(text) for text in CORPUS], vocab_size=300)


def test_br_tags_become_newlines():
    assert clean_review("one.<br /><br />two<br/>three<br>") == "one.\n\ntwo\nthree\n"


def test_eot_is_id_zero_and_the_vocabulary_has_the_size_asked(tokenizer):
    assert tokenizer.token_to_id(EOT) == EOT_ID == 0
    assert tokenizer.get_vocab_size() == 300


@pytest.mark.parametrize("text", [
    "Kurosawa's Rashômon (1950) — 10/10!!! 🎬",
    "zzyzx qwfp: words never seen while learning the merges",
    "Ünïcödé, 中文, and a tab\tand a newline\n",
])
def test_any_text_round_trips_without_unknown_tokens(tokenizer, text):
    ids = tokenizer.encode(text).ids
    assert all(0 < i < tokenizer.get_vocab_size() for i in ids)
    assert tokenizer.decode(ids) == text
    assert "[UNK]" not in tokenizer.get_vocab()


def test_frequent_words_become_single_tokens(tokenizer):
    # " movie" occurs 20 times in the corpus, " was" and " great" 80 and 60: only they earn a merge
    pieces = token_strings(tokenizer, tokenizer.encode("The movie was great and the plot").ids)
    assert pieces[-5:] == [" was", " great", " and", " the", " plot"] and " movie" not in pieces


def test_stream_is_eot_then_each_text_in_order(tokenizer):
    texts = ["The plot.", "Great music!", "x"]
    stream, starts = encode_stream(tokenizer, texts)
    assert stream.dtype == np.uint16
    expected = [id_ for text in texts for id_ in [EOT_ID, *tokenizer.encode(text).ids]]
    np.testing.assert_array_equal(stream, expected)
    assert np.all(stream[starts] == EOT_ID) and len(starts) == 3


def test_tokenizer_and_stream_caches_are_reused_and_renewed(tmp_path):
    texts = [clean_review(text) for text in CORPUS]
    first, trained = load_or_train_bpe(texts, tmp_path / "bpe.json", 300)
    again, trained_again = load_or_train_bpe(texts, tmp_path / "bpe.json", 300)
    assert trained and not trained_again and again.get_vocab() == first.get_vocab()
    _, retrained = load_or_train_bpe(texts, tmp_path / "bpe.json", 280)
    assert retrained

    stream, _ = load_or_encode(first, texts[:5], tmp_path / "s.npz")
    cached, _ = load_or_encode(first, texts[:5], tmp_path / "s.npz")
    np.testing.assert_array_equal(cached, stream)
    other, _ = load_or_encode(first, texts[:2], tmp_path / "s.npz")
    np.testing.assert_array_equal(other, encode_stream(first, texts[:2])[0])


@pytest.mark.parametrize("call, named", [
    (lambda: train_bpe(CORPUS, vocab_size=200), "vocab_size"),
    (lambda: train_bpe("one review", vocab_size=300), "texts"),
    (lambda: train_bpe([], vocab_size=300), "texts"),
    (lambda: load_or_train_bpe(CORPUS, "bpe.txt"), "path"),
])
def test_bad_inputs_name_the_argument(call, named):
    with pytest.raises((ValueError, TypeError), match=named):
        call()
