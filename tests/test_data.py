"""helpers.data: the real data sets from a local cache, and clear errors without one.

The data come from the project's cache when it is seeded; otherwise they are
seeded once per session into a temporary cache from the archives kept beside
the project (`../shared/data`), labelled reviews and sentence pairs only.
"""
import io
import re
import string
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from helpers import data

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "data"
SEED_COMMAND = "python -m helpers.data seed"


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    """A cache holding aclImdb train and test and spa-eng."""
    if data.is_cached("imdb") and data.is_cached("spa-eng"):
        return data.cache_dir()
    if not SOURCE.is_dir():
        pytest.skip(f"the cache is not seeded and {SOURCE} holds no archives to seed it")
    root = tmp_path_factory.mktemp("cache")
    data.seed(SOURCE, root, ["imdb", "spa-eng"])
    return root


@pytest.fixture
def source():
    if not SOURCE.is_dir():
        pytest.skip(f"{SOURCE} holds no archives")
    return SOURCE


def go_offline(monkeypatch):
    """No network: every urlopen fails; returns the list of addresses tried."""
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


@pytest.fixture
def offline(monkeypatch):
    return go_offline(monkeypatch)


def serve(monkeypatch, payload):
    """Every urlopen answers with `payload`, as if downloaded."""
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, *a, **k: io.BytesIO(payload))


def truncated_copy(archive, folder, size=1_000_000):
    folder.mkdir(exist_ok=True)
    copy = folder / archive.name
    copy.write_bytes(archive.read_bytes()[:size])
    return copy


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------- IMDB

@pytest.mark.parametrize("split", ["train", "test"])
def test_labelled_split_has_12500_reviews_per_label_without_network(cache, offline, split):
    texts, labels = data.load_imdb(split, cache)
    assert len(texts) == 25_000 and labels.shape == (25_000,)
    assert np.issubdtype(labels.dtype, np.integer)
    assert Counter(labels.tolist()) == {0: 12_500, 1: 12_500}
    # Negative reviews first, then positive ones, each from review id 0 up.
    tree = Path(cache) / "aclImdb" / split
    assert texts[0] == next(tree.glob("neg/0_*.txt")).read_text(encoding="utf-8")
    assert texts[12_500] == next(tree.glob("pos/0_*.txt")).read_text(encoding="utf-8")
    assert labels[:12_500].max() == 0 and labels[12_500:].min() == 1
    assert offline == []


def test_reviews_keep_their_br_tags(cache):
    texts, _ = data.load_imdb("test", cache)
    assert sum("<br />" in text for text in texts) > 10_000


def test_unsup_split_has_50000_reviews_labelled_minus_one(cache):
    if not data.is_cached("imdb-unsup", cache):
        pytest.skip("the cache holds no train/unsup (seed aclImdb_unsup.tar.gz)")
    texts, labels = data.load_imdb("unsup", cache)
    assert len(texts) == 50_000 and set(labels.tolist()) == {-1}


def test_movie_split_keeps_every_movie_on_one_side(cache):
    fit, validation = data.imdb_movie_split(5_000, seed=0, data_dir=cache)
    assert len(validation) >= 5_000 and len(fit) + len(validation) == 25_000
    assert len(np.intersect1d(fit, validation)) == 0
    root = cache / "aclImdb" / "train"
    movies = np.array([url for label in ("neg", "pos")
                       for url in (root / f"urls_{label}.txt").read_text(encoding="utf-8").split()])
    # urls_*.txt are in review-id order, load_imdb in review-id order too, label by label
    assert not set(movies[fit]) & set(movies[validation])
    again, _ = data.imdb_movie_split(5_000, seed=0, data_dir=cache)
    other, _ = data.imdb_movie_split(5_000, seed=1, data_dir=cache)
    assert np.array_equal(fit, again) and not np.array_equal(fit, other)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_imdb("validation")


# ----------------------------------------------------------- errors and cache

@pytest.mark.parametrize("load", [lambda d: data.load_imdb("train", d), data.load_spa_eng])
def test_no_cache_and_no_network_names_the_seed_command(tmp_path, offline, load):
    with pytest.raises(data.DatasetNotFoundError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "is not in the cache" in message and str(tmp_path) in message
    assert f"{SEED_COMMAND} /path/to/folder --data-dir {tmp_path}" in message
    assert isinstance(info.value, RuntimeError)
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    assert len(offline) == 1 and leftovers(tmp_path) == []


def test_seed_command_reports_a_clean_error_without_traceback(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "helpers.data", "seed", str(tmp_path)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert run.returncode == 1
    assert run.stderr.startswith("error: ") and "holds none of aclImdb.tar.gz" in run.stderr
    assert "Traceback" not in run.stderr


def test_seed_if_present_does_nothing_without_the_folder(tmp_path):
    missing = tmp_path / "no-such-folder"
    run = subprocess.run(
        [sys.executable, "-m", "helpers.data", "seed", str(missing), "--if-present",
         "--data-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, cwd=REPO,
    )
    assert run.returncode == 0 and "nothing to seed" in run.stdout
    assert not (tmp_path / "cache").exists()


def test_truncated_archive_fails_its_checksum_and_leaves_the_cache_empty(tmp_path, source):
    archive = truncated_copy(source / "aclImdb.tar.gz", tmp_path / "archives")
    with pytest.raises(data.CorruptArchiveError, match="sha256") as info:
        data.seed(archive.parent, tmp_path / "cache", ["imdb"])
    assert str(archive) in str(info.value)
    assert leftovers(tmp_path / "cache") == []


def test_archive_that_breaks_off_mid_extraction_leaves_no_partial_tree(tmp_path, source, monkeypatch):
    archive = truncated_copy(source / "aclImdb.tar.gz", tmp_path / "archives")
    monkeypatch.setitem(data.SEED_ARCHIVES, "imdb", (archive.name, data._sha256(archive)))
    with pytest.raises(data.CorruptArchiveError, match="truncated or corrupt") as info:
        data.seed(archive.parent, tmp_path / "cache", ["imdb"])
    assert str(archive) in str(info.value)
    assert leftovers(tmp_path / "cache") == []
    assert not data.is_cached("imdb", tmp_path / "cache")


def test_cache_with_missing_reviews_is_caught_by_counting(tmp_path, offline):
    pos = tmp_path / "aclImdb" / "train" / "pos"
    pos.mkdir(parents=True)
    for i in range(3):
        (pos / f"{i}_9.txt").write_text("A fine film.", encoding="utf-8")
    assert not data.is_cached("imdb", tmp_path)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_imdb("train", tmp_path)
    message = str(info.value)
    assert "is incomplete" in message and SEED_COMMAND in message
    assert "train/pos holds 3 of 12,500 reviews" in message and "train/neg is missing" in message


def test_seed_replaces_an_incomplete_tree(tmp_path, source):
    short = tmp_path / "spa-eng" / "spa.txt"
    short.parent.mkdir()
    short.write_text("Go.\tVe.\n" * 10, encoding="utf-8")
    assert not data.is_cached("spa-eng", tmp_path)
    assert data.seed(source, tmp_path, ["spa-eng"]) == {"spa-eng": "extracted"}
    assert len(data.load_spa_eng(tmp_path)) == 118_964
    assert leftovers(tmp_path) == ["spa-eng"]


def test_seed_again_finds_the_data_without_reading_archives(cache, source, monkeypatch, capsys):
    monkeypatch.setattr(data, "_sha256", lambda path: pytest.fail(f"read {path}"))
    assert data.seed(source, cache, ["imdb", "spa-eng"]) == {"imdb": "found", "spa-eng": "found"}
    assert capsys.readouterr().out.count("nothing to do") == 2


def test_download_is_cached_and_then_used_offline(tmp_path, source, monkeypatch):
    archive = source / "spa-eng.zip"
    serve(monkeypatch, archive.read_bytes())
    pairs = data.load_spa_eng(tmp_path)
    with zipfile.ZipFile(archive) as zipped:
        lines = zipped.read("spa-eng/spa.txt").decode("utf-8").splitlines()
    assert pairs == [tuple(line.split("\t")) for line in lines]
    tried = go_offline(monkeypatch)
    assert data.load_spa_eng(tmp_path) == pairs and tried == []
    assert leftovers(tmp_path) == ["spa-eng", "spa-eng.zip"]


def test_truncated_download_is_refused_with_the_file_named(tmp_path, source, monkeypatch):
    serve(monkeypatch, (source / "spa-eng.zip").read_bytes()[:1_000_000])
    with pytest.raises(data.CorruptArchiveError, match="truncated or corrupt") as info:
        data.load_spa_eng(tmp_path)
    assert str(tmp_path / "spa-eng.zip") in str(info.value) and "Delete it" in str(info.value)
    assert leftovers(tmp_path) == ["spa-eng.zip"]


def test_download_with_wrong_checksum_is_not_kept(tmp_path, monkeypatch):
    serve(monkeypatch, b"not the archive")
    with pytest.raises(data.CorruptArchiveError, match="expected the published"):
        data.load_imdb("train", tmp_path)
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------ vectorization

def test_imdb_standardize_lowercases_and_strips_tags_and_punctuation():
    import tensorflow as tf

    out = data.imdb_standardize(tf.constant(["Great<br /><br />MOVIE, really!", "It's <br/>Émile's"]))
    assert [s.decode("utf-8") for s in out.numpy()] == ["great  movie really", "its  émiles"]


def test_vectorizer_learns_its_vocabulary_from_train_texts_only(cache):
    train, train_labels = data.load_imdb("train", cache)
    test, _ = data.load_imdb("test", cache)
    train, _ = data.stratified_subset(train, train_labels, 1_000, seed=0)
    vectorizer = data.make_imdb_vectorizer(train, vocab_size=None, seq_len=8)
    # The same standardization in plain Python, as an independent reference.
    train_text = re.sub(r"<br\s*/?>", " ", " ".join(train).lower())
    train_text = re.sub(f"[{re.escape(string.punctuation)}]", "", train_text)
    vocabulary = vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert all(word in train_text for word in vocabulary[2:] if word.isascii())
    test_words = sorted(set(re.findall(r"\b[a-z]{6,}\b", " ".join(test[:500]).lower())))
    test_only = next(word for word in test_words if word not in train_text)
    seen = vocabulary[2]
    ids = vectorizer([f"{test_only} {seen}"]).numpy()
    assert ids.tolist() == [[1, 2, 0, 0, 0, 0, 0, 0]]


def test_imdb_dataset_batches_token_ids_with_their_labels():
    texts = [f"review number {i}" for i in range(10)]
    labels = np.arange(10) % 2
    vectorizer = data.make_imdb_vectorizer(texts, vocab_size=50, seq_len=4)
    batches = list(data.imdb_dataset(texts, labels, vectorizer, batch_size=4))
    assert [x.shape for x, _ in batches] == [(4, 4), (4, 4), (2, 4)]
    assert np.concatenate([y for _, y in batches]).tolist() == labels.tolist()
    number = vectorizer.get_vocabulary().index("7")
    assert batches[1][0].numpy()[3].tolist()[2] == number
    shuffled = data.imdb_dataset(texts, labels, vectorizer, batch_size=4, shuffle=True, seed=1)
    pairs = [(x[2], y) for xb, yb in shuffled for x, y in zip(xb.numpy().tolist(), yb.numpy())]
    vocabulary = vectorizer.get_vocabulary()
    assert sorted((int(vocabulary[x]), y) for x, y in pairs) == list(zip(range(10), labels))


def test_stratified_subset_keeps_each_class_share():
    texts = [f"text {i}" for i in range(1_000)]
    labels = np.array([0] * 700 + [1] * 300)
    sub_texts, sub_labels = data.stratified_subset(texts, labels, 101, seed=3)
    assert Counter(sub_labels.tolist()) == {0: 71, 1: 30}
    assert len(set(sub_texts)) == 101
    assert all(labels[int(text.split()[1])] == label for text, label in zip(sub_texts, sub_labels))
    again, _ = data.stratified_subset(texts, labels, 101, seed=3)
    other, _ = data.stratified_subset(texts, labels, 101, seed=4)
    assert again == sub_texts and other != sub_texts
    with pytest.raises(ValueError, match="n must be an int between 0 and len"):
        data.stratified_subset(texts, labels, 1_001)


# ------------------------------------------------------------------ spa-eng

def test_spa_eng_has_118964_english_spanish_pairs(cache, offline):
    pairs = data.load_spa_eng(cache)
    assert len(pairs) == 118_964 and set(map(len, pairs)) == {2}
    assert pairs[0] == ("Go.", "Ve.") and offline == []


def test_split_by_english_puts_each_english_sentence_in_one_split(cache):
    pairs = data.load_spa_eng(cache)
    parts = data.split_by_english(pairs, (0.8, 0.1, 0.1), seed=0)
    english = [{en for en, _ in part} for part in parts]
    assert not (english[0] & english[1] or english[0] & english[2] or english[1] & english[2])
    assert Counter(pair for part in parts for pair in part) == Counter(pairs)
    distinct = len(set(en for en, _ in pairs))
    shares = [0.8 * distinct, 0.1 * distinct, 0.1 * distinct]
    assert [len(e) for e in english] == pytest.approx(shares, abs=1)
    assert data.split_by_english(pairs, (0.8, 0.1, 0.1), seed=0) == parts
    with pytest.raises(ValueError, match="sum to 1"):
        data.split_by_english(pairs, (0.8, 0.1))


def test_spa_standardize_keeps_accents_and_sets_punctuation_apart():
    import tensorflow as tf

    out = data.spa_standardize(tf.constant(["¿Dónde está el BAÑO?", "I'm «here», [start] ¡Sí!"]))
    assert [s.decode("utf-8") for s in out.numpy()] == [
        "¿ dónde está el baño ?",
        "i'm here , [start] ¡ sí !",
    ]


def test_default_cache_is_the_checkouts_data_folder_or_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("HOSA_DATA_DIR", raising=False)
    assert data.cache_dir() == REPO / "data"
    (tmp_path / "checkout").mkdir()
    (tmp_path / "checkout" / "pyproject.toml").write_text("")
    assert data.default_cache_dir(tmp_path / "checkout") == tmp_path / "checkout" / "data"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    site_packages = tmp_path / "site-packages"
    assert data.default_cache_dir(site_packages) == tmp_path / "home" / ".cache" / "hands-on-self-attention"
