"""helpers.translation: the split, the teacher-forcing batches, decoding, BLEU and saving,
on a tiny model trained briefly on real spa-eng pairs (Tatoeba via manythings.org/anki)."""
import numpy as np
import pytest
import keras

from helpers.data import load_spa_eng, split_by_english
from helpers.translation import (
    END,
    START,
    beam_search,
    corpus_bleu,
    detokenize,
    greedy_decode,
    group_references,
    load_translator,
    make_vectorizers,
    masked_accuracy,
    masked_loss,
    save_translator,
    translate,
    translation_dataset,
    transformer_translator,
)

MAX_LENGTH = 12


@pytest.fixture(scope="module")
def splits():
    return split_by_english(load_spa_eng())


@pytest.fixture(scope="module")
def trained(splits):
    """A tiny translator trained for a few hundred steps: it has learned some words
    and when to stop, which is all the decoding tests need."""
    keras.utils.set_random_seed(0)
    train = splits[0][:6000]
    source_vectorizer, target_vectorizer = make_vectorizers(train, 2000, 2000, MAX_LENGTH)
    model = transformer_translator(2000, 2000, MAX_LENGTH, d_model=32, num_heads=2, d_ff=64,
                                   num_layers=1)
    model.compile(keras.optimizers.Adam(3e-3), loss=masked_loss, metrics=[masked_accuracy])
    data = translation_dataset(train, source_vectorizer, target_vectorizer, 64, shuffle=True, seed=0)
    model.fit(data, epochs=2, verbose=0, shuffle=False)  # the data shuffle themselves
    return model, source_vectorizer, target_vectorizer


def ids_of(vectorizer, texts):
    return np.asarray(vectorizer(texts))


def special_ids(target_vectorizer):
    vocab = target_vectorizer.get_vocabulary()
    return vocab.index(START), vocab.index(END)


def test_no_english_sentence_lands_in_two_splits(splits):
    english = [{pair[0] for pair in part} for part in splits]
    assert not english[0] & english[1] and not english[0] & english[2] and not english[1] & english[2]
    assert sum(len(part) for part in splits) == 118_964


def test_group_references_keeps_every_translation_of_a_sentence():
    pairs = [("Hi.", "Hola."), ("Run!", "¡Corre!"), ("Hi.", "¡Hola!")]
    assert group_references(pairs) == (["Hi.", "Run!"], [["Hola.", "¡Hola!"], ["¡Corre!"]])


def test_vectorizers_keep_accents_and_inverted_marks_and_learn_from_train_only():
    train = [("Where is it?", "¿Dónde está?"), ("Run!", "¡Corre!")]
    source, target = make_vectorizers(train, 50, 50, 6)
    vocab = target.get_vocabulary()
    assert {"¿", "dónde", "está", "?", "¡", "corre", "!", START, END} <= set(vocab)
    assert "hola" not in vocab and "where" in source.get_vocabulary()
    ids = ids_of(target, ["[start] ¿Dónde está? [end]"])[0]
    assert [vocab[i] for i in ids] == [START, "¿", "dónde", "está", "?", END, ""]


def test_teacher_forcing_batches_shift_the_target_by_one():
    pairs = [("I ran.", "Corrí."), ("Where is it?", "¿Dónde está?")]
    source, target = make_vectorizers(pairs, 50, 50, 8)
    inputs, labels = next(iter(translation_dataset(pairs, source, target, batch_size=2)))
    target_in, labels = np.asarray(inputs["target"]), np.asarray(labels)
    full = ids_of(target, [f"{START} {s} {END}" for _, s in pairs])
    np.testing.assert_array_equal(target_in, full[:, : target_in.shape[1]])
    np.testing.assert_array_equal(labels, full[:, 1: labels.shape[1] + 1])
    assert target_in.shape == labels.shape == (2, 5)  # [start] ¿ dónde está ? | ... ? [end]


def test_dataset_drops_pairs_that_do_not_fit():
    pairs = [("a b c d e f g h", "uno."), ("Hi.", "Hola."), ("Go.", "uno dos tres cuatro cinco seis")]
    source, target = make_vectorizers(pairs, 50, 50, 4)
    batches = list(translation_dataset(pairs, source, target, batch_size=8))
    assert sum(len(labels) for _, labels in batches) == 1


def test_masked_loss_and_accuracy_ignore_padding():
    labels = np.array([[3, 4, 0, 0]])
    logits = np.full((1, 4, 6), -10.0, "float32")
    logits[0, 0, 3] = logits[0, 1, 2] = 10.0  # right, wrong; the padding positions are wrong too
    assert float(masked_accuracy(labels, logits)) == pytest.approx(0.5)
    full = keras.losses.sparse_categorical_crossentropy(labels[:, :2], logits[:, :2], from_logits=True)
    assert float(masked_loss(labels, logits)) == pytest.approx(float(np.mean(full)), rel=1e-5)


def test_greedy_decoding_equals_beam_search_of_width_one(trained, splits):
    model, source, target = trained
    ids = ids_of(source, [english for english, _ in splits[2][:40]])
    start, end = special_ids(target)
    greedy = greedy_decode(model, ids, start, end, MAX_LENGTH)
    assert greedy == beam_search(model, ids, start, end, MAX_LENGTH, width=1)
    assert any(len(tokens) > 1 for tokens in greedy)


def test_decoding_stops_at_the_end_token(trained, splits):
    model, source, target = trained
    ids = ids_of(source, [english for english, _ in splits[2][:40]])
    start, end = special_ids(target)
    for decode in (greedy_decode, lambda *a: beam_search(*a, width=3)):
        results = decode(model, ids, start, end, MAX_LENGTH)
        assert all(end not in tokens and 0 not in tokens and start not in tokens for tokens in results)
        # The tiny model has learned to stop: most translations end well before the limit.
        assert np.mean([len(tokens) < MAX_LENGTH - 1 for tokens in results]) > 0.9


def test_beam_search_finds_a_hypothesis_at_least_as_likely_as_greedy(trained, splits):
    model, source, target = trained
    ids = ids_of(source, [english for english, _ in splits[2][:20]])
    start, end = special_ids(target)

    def log_prob(tokens):
        full = np.array([[start, *tokens, end]])
        logits = model.predict_on_batch({"source": ids[i: i + 1], "target": full[:, :-1]})
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        return sum(log_probs[0, t, full[0, t + 1]] for t in range(full.shape[1] - 1))

    greedy = greedy_decode(model, ids, start, end, MAX_LENGTH)
    beam = beam_search(model, ids, start, end, MAX_LENGTH, width=4, length_penalty=0.0)
    for i in range(len(ids)):
        assert log_prob(beam[i]) >= log_prob(greedy[i]) - 1e-3


def test_save_and_load_round_trip_gives_the_same_translations(trained, splits, tmp_path):
    model, source, target = trained
    english = [pair[0] for pair in splits[2][:30]]
    path = tmp_path / "translator.keras"
    save_translator(path, model, source, target)
    loaded_model, loaded_source, loaded_target = load_translator(path)
    for method in ("greedy", "beam"):
        assert (translate(loaded_model, english, loaded_source, loaded_target, method=method)
                == translate(model, english, source, target, method=method))


def test_detokenize_attaches_punctuation_the_spanish_way():
    assert detokenize(["¿", "dónde", "está", "?"]) == "¿dónde está?"
    assert detokenize(["¡", "hola", "!", "sí", ",", "claro", "."]) == "¡hola! sí, claro."


def test_corpus_bleu_is_sacrebleu_with_several_references():
    import sacrebleu

    hypotheses = ["¿dónde está el baño?", "tengo un perro."]
    references = [["¿Dónde está el baño?", "¿Dónde queda el baño?"], ["Tengo un gato."]]
    assert corpus_bleu(hypotheses, references).score == pytest.approx(
        sacrebleu.corpus_bleu(hypotheses, [["¿Dónde está el baño?", "Tengo un gato."],
                                           ["¿Dónde queda el baño?", None]],
                              tokenize="intl", lowercase=True).score)
    assert corpus_bleu(["¿dónde está el baño?"], [["¿Dónde está el baño?"]]).score == pytest.approx(100.0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: corpus_bleu(["a"], []), ValueError, "same length"),
    (lambda: corpus_bleu(["a"], [[]]), ValueError, "at least one reference"),
    (lambda: make_vectorizers([], 50, 50), ValueError, "non-empty list"),
    (lambda: make_vectorizers([("a", "b")], 3, 50), ValueError, "source_vocab must be >= 5"),
    (lambda: greedy_decode(None, np.zeros(3, int), 2, 3), ValueError, r"source_ids must be integer"),
    (lambda: save_translator("model.h5", None, None, None), ValueError, "must end in .keras"),
])
def test_bad_inputs_raise_one_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
