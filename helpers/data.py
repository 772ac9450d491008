"""The real data sets, read from a local cache that never needs the network twice.

- Large Movie Review Dataset (aclImdb; Maas et al., ACL 2011): 25,000 train
  and 25,000 test reviews labelled negative (0) or positive (1), and 50,000
  unlabelled ones (`train/unsup`), as raw text with their `<br />` tags.
- spa-eng: 118,964 English-Spanish sentence pairs from the Tatoeba project,
  as packaged by www.manythings.org/anki (CC BY 2.0 France; keep that
  attribution wherever the data is shown).

The cache is the repository's `data/` folder, or `$HOSA_DATA_DIR`. A loader
first looks for the extracted tree there and checks it by counting files
(12,500 reviews per labelled folder, 50,000 unlabelled, 118,964 sentence
pairs); only when the tree is missing or incomplete does it download the
original archive, check its published sha256, and extract it. Without a
network, fill the cache from a folder that holds the archives:

    python -m helpers.data seed /path/to/folder

Archives are extracted into a scratch folder inside the cache and renamed
into place only once complete, so an interrupted or failed run never leaves
a tree that passes for data. Downloads use urllib and hashlib rather than
`keras.utils.get_file`, whose Keras 3 version re-extracts on every call and,
offline, deletes a cached file whose hash does not match.
"""
import argparse
import contextlib
import gzip
import hashlib
import http.client
import os
import re
import shutil
import string
import sys
import tarfile
import time
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "DatasetError",
    "DatasetNotFoundError",
    "CorruptArchiveError",
    "cache_dir",
    "is_cached",
    "seed",
    "write_whole",
    "load_imdb",
    "imdb_movie_split",
    "imdb_fit_and_eval",
    "imdb_standardize",
    "make_imdb_vectorizer",
    "texts_to_ids",
    "imdb_dataset",
    "stratified_subset",
    "load_spa_eng",
    "spa_standardize",
    "split_by_english",
]

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
SPA_ENG_PAIRS = 118_964

# Reviews per folder of the aclImdb tree, and the folders each split reads.
IMDB_COUNTS = {
    "train/neg": 12_500,
    "train/pos": 12_500,
    "test/neg": 12_500,
    "test/pos": 12_500,
    "train/unsup": 50_000,
}
IMDB_SPLITS = {
    "train": ("train/neg", "train/pos"),
    "test": ("test/neg", "test/pos"),
    "unsup": ("train/unsup",),
}
_LABELLED = IMDB_SPLITS["train"] + IMDB_SPLITS["test"]
_LABELS = {"neg": 0, "pos": 1, "unsup": -1}

# What the seed command extracts: per data set, the archive it expects in the
# seed folder and that file's own sha256 (the copies kept beside the project;
# the labelled and unlabelled reviews come in two archives there).
SEED_ARCHIVES = {
    "imdb": ("aclImdb.tar.gz", "7742b240cc4309acb147dda61d94cd7ff973a1f4c070cb030778fc3ccf210c77"),
    "imdb-unsup": (
        "aclImdb_unsup.tar.gz",
        "66cab0bf3b818ce57e515ad4541d2d9ae4526d8af5a70121e5443c723a47a1b2",
    ),
    "spa-eng": ("spa-eng.zip", "f80e581ae291aa34dd3aba7bd98b5e9505234da4318e2f3295df70a1520c7f61"),
}


class DatasetError(RuntimeError):
    """A data set cannot be loaded; the message says why and how to fix it."""


class DatasetNotFoundError(DatasetError):
    """The cache lacks the data (or part of it) and it could not be fetched."""


class CorruptArchiveError(DatasetError):
    """An archive fails its checksum, cannot be extracted, or lacks files."""


def cache_dir(path=None):
    """The cache folder: `path`, else `$HOSA_DATA_DIR`, else the default.

    The default is the repository's `data/` when `helpers` runs from a
    checkout (README set-up), else `~/.cache/hands-on-self-attention` (a
    package installed from a git address, as in Colab).
    """
    if path is None:
        path = os.environ.get("HOSA_DATA_DIR") or default_cache_dir(Path(__file__).resolve().parents[1])
    return Path(path).expanduser()


def default_cache_dir(package_parent):
    """`package_parent/data` if that folder is a checkout (has pyproject.toml), else the user's cache."""
    package_parent = Path(package_parent)
    if (package_parent / "pyproject.toml").is_file():
        return package_parent / "data"
    return Path.home() / ".cache" / "hands-on-self-attention"


def _seed_hint(root, explicit):
    option = f" --data-dir {root}" if explicit else ""
    names = ", ".join(name for name, _ in SEED_ARCHIVES.values())
    return (
        f"Fill the cache from a folder that holds the archives ({names}):\n"
        f"    python -m helpers.data seed /path/to/folder{option}\n"
        "or run this again with internet access to download them."
    )


# ---------------------------------------------------------------- cache checks

def _count_txt(folder):
    try:
        return sum(1 for entry in os.scandir(folder) if entry.name.endswith(".txt"))
    except FileNotFoundError:
        return None


def _imdb_problems(tree, folders):
    """What keeps the aclImdb `tree` from holding `folders` in full ([] if nothing)."""
    problems = []
    for folder in folders:
        count, expected = _count_txt(tree / folder), IMDB_COUNTS[folder]
        if count is None:
            problems.append(f"{folder} is missing")
        elif count != expected:
            problems.append(f"{folder} holds {count:,} of {expected:,} reviews")
    return problems


def _read_spa_eng(folder):
    """(pairs, problems) from `folder`/spa.txt; problems is [] for the full file."""
    path = folder / "spa.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return [], ["spa.txt is missing"]
    except UnicodeDecodeError as err:
        return [], [f"spa.txt is not UTF-8 text ({err})"]
    pairs = [tuple(line.split("\t")) for line in lines]
    problems = []
    if len(pairs) != SPA_ENG_PAIRS:
        problems.append(f"spa.txt holds {len(pairs):,} of {SPA_ENG_PAIRS:,} lines")
    malformed = [i for i, pair in enumerate(pairs, start=1) if len(pair) != 2]
    if malformed:
        problems.append(
            f"{len(malformed):,} lines of spa.txt are not English<TAB>Spanish "
            f"(first: line {malformed[0]:,})"
        )
    return pairs, problems


def _problems(name, root):
    if name == "imdb":
        return _imdb_problems(root / "aclImdb", _LABELLED)
    if name == "imdb-unsup":
        return _imdb_problems(root / "aclImdb", IMDB_SPLITS["unsup"])
    return _read_spa_eng(root / "spa-eng")[1]


def is_cached(name, data_dir=None):
    """Whether the cache holds data set `name` ("imdb", "imdb-unsup" or "spa-eng") in full."""
    if name not in SEED_ARCHIVES:
        raise ValueError(f"name must be one of {sorted(SEED_ARCHIVES)}; got {name!r}")
    return not _problems(name, _resolve(data_dir))


def _resolve(path):
    return cache_dir(path).resolve()


# ------------------------------------------------------- fetching and extracting

def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(path, expected, fix):
    got = _sha256(path)
    if got != expected:
        raise CorruptArchiveError(
            f"{path} has sha256 {got}, expected {expected}: the file is truncated, "
            f"corrupt or a different version. {fix}"
        )


def _download(url, dest, sha256=None):
    """Fetch `url` into `dest`, through `dest`.part so that a broken download leaves nothing."""
    part = dest.with_name(dest.name + ".part")
    print(f"downloading {url} to {dest} ...", flush=True)
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if sha256 is not None and digest.hexdigest() != sha256:
        part.unlink()
        raise CorruptArchiveError(
            f"the download from {url} has sha256 {digest.hexdigest()}, expected the "
            f"published {sha256}; it was not kept. Run again to retry."
        )
    part.replace(dest)


_REFETCH = "Delete it and run again to download it anew."


def _fetch(url, archive, sha256, what, root, explicit, problems):
    """Make sure `archive` is in the cache: use a cached copy, else download it."""
    if archive.exists():
        if sha256 is not None:
            _check_sha256(archive, sha256, _REFETCH)
        return
    try:
        _download(url, archive, sha256)
    except (OSError, http.client.HTTPException) as err:
        if problems:
            state = f"in the cache {root} is incomplete ({'; '.join(problems)})"
        else:
            state = f"is not in the cache {root}"
        raise DatasetNotFoundError(
            f"{what} {state}, and the download from {url} failed "
            f"({type(err).__name__}: {err}).\n{_seed_hint(root, explicit)}"
        ) from None


def _unpack(archive, dest):
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(dest)
        return
    with tarfile.open(archive) as tarred:
        if hasattr(tarfile, "data_filter"):
            tarred.extractall(dest, filter="data")
        else:  # Python < 3.11.4 has no filters: refuse paths that leave `dest`
            for member in tarred.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise tarfile.TarError(f"unsafe path {member.name!r}")
            tarred.extractall(dest)


@contextlib.contextmanager
def _extracted(archive, root, fix):
    """Extract `archive` into a scratch folder inside `root`; the folder goes afterwards."""
    scratch = root / f".partial-{archive.name}"
    shutil.rmtree(scratch, ignore_errors=True)  # left behind by an interrupted run
    scratch.mkdir(parents=True)
    try:
        try:
            _unpack(archive, scratch)
        except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, zlib.error) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CorruptArchiveError(
                f"{archive} is truncated or corrupt and could not be extracted ({reason}); "
                f"nothing was added to the cache {root}. {fix}"
            ) from None
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _swap_in(new, dest, scratch):
    """Put the complete tree `new` at `dest`; an old tree there moves into `scratch` to go."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.rename(scratch / f"old-{dest.name}")
    new.rename(dest)


def write_whole(path, write):
    """Call write(tmp) on a temporary file beside `path`, then rename it to `path`.

    Readers that wait for `path` to exist (a model cache shared by two
    kernels at once) never see a half-written file. The temporary name keeps
    every suffix (Keras insists on ".keras" and ".weights.h5"). Returns `path`.
    """
    path = Path(path)
    suffix = "".join(path.suffixes)
    tmp = path.with_name(f".{path.name[: len(path.name) - len(suffix)]}.{os.getpid()}.partial{suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _check_extracted(archive, tree, problems, fix):
    if problems:
        raise CorruptArchiveError(
            f"{archive} was extracted, but it does not hold the full data set "
            f"(in {tree.name}/: {'; '.join(problems)}). {fix}"
        )


def _install_imdb(archive, root, fix):
    """Extract an archive with the labelled aclImdb tree (and maybe train/unsup)."""
    with _extracted(archive, root, fix) as scratch:
        new, old = scratch / "aclImdb", root / "aclImdb"
        _check_extracted(archive, new, _imdb_problems(new, _LABELLED), fix)
        unsup = IMDB_SPLITS["unsup"]
        if _imdb_problems(new, unsup) and not _imdb_problems(old, unsup):
            # Keep the unlabelled reviews already seeded over the tree being replaced.
            (old / "train/unsup").rename(new / "train/unsup")
            if (old / "train/urls_unsup.txt").exists():
                (old / "train/urls_unsup.txt").rename(new / "train/urls_unsup.txt")
        _swap_in(new, old, scratch)


def _install_imdb_unsup(archive, root, fix):
    """Extract the archive of `train/unsup` over the aclImdb tree."""
    with _extracted(archive, root, fix) as scratch:
        new = scratch / "aclImdb"
        _check_extracted(archive, new, _imdb_problems(new, IMDB_SPLITS["unsup"]), fix)
        train = root / "aclImdb/train"
        _swap_in(new / "train/unsup", train / "unsup", scratch)
        if (new / "train/urls_unsup.txt").exists():
            (new / "train/urls_unsup.txt").replace(train / "urls_unsup.txt")


def _install_spa_eng(archive, root, fix):
    with _extracted(archive, root, fix) as scratch:
        new = scratch / "spa-eng"
        _check_extracted(archive, new, _read_spa_eng(new)[1], fix)
        _swap_in(new, root / "spa-eng", scratch)


_INSTALLERS = {"imdb": _install_imdb, "imdb-unsup": _install_imdb_unsup, "spa-eng": _install_spa_eng}


def seed(source, data_dir=None, datasets=None):
    """Fill the cache from the folder `source` that holds the archives; no network.

    datasets: names among "imdb" (train and test), "imdb-unsup" and "spa-eng";
    None means every one whose archive `source` holds. A data set already
    complete in the cache is left alone, without reading its archive. Each
    archive's sha256 is checked against `SEED_ARCHIVES` before extraction.
    Prints one line per data set; returns {name: "found" or "extracted"}.
    """
    source, root = Path(source).expanduser(), _resolve(data_dir)
    if isinstance(datasets, str):
        datasets = [datasets]
    if not source.is_dir():
        raise DatasetNotFoundError(f"the seed folder {source} does not exist or is not a folder")
    if datasets is None:
        datasets = [name for name, (file, _) in SEED_ARCHIVES.items() if (source / file).is_file()]
        if not datasets:
            names = ", ".join(file for file, _ in SEED_ARCHIVES.values())
            raise DatasetNotFoundError(f"the seed folder {source} holds none of {names}")
    unknown = sorted(set(datasets) - set(SEED_ARCHIVES))
    if unknown:
        raise ValueError(f"datasets must be among {sorted(SEED_ARCHIVES)}; got {unknown}")
    root.mkdir(parents=True, exist_ok=True)
    done = {}
    for name in [name for name in SEED_ARCHIVES if name in datasets]:
        file, sha256 = SEED_ARCHIVES[name]
        if not _problems(name, root):
            print(f"{name}: already in the cache {root}; nothing to do", flush=True)
            done[name] = "found"
            continue
        archive = source / file
        if not archive.is_file():
            raise DatasetNotFoundError(f"{name}: the seed folder {source} has no {file}")
        fix = f"Replace it with a good copy of {file}."
        _check_sha256(archive, sha256, fix)
        print(f"{name}: extracting {archive} into {root} ...", flush=True)
        start = time.perf_counter()
        _INSTALLERS[name](archive, root, fix)
        print(f"{name}: done in {time.perf_counter() - start:.1f} s", flush=True)
        done[name] = "extracted"
    return done


# ------------------------------------------------------------------------ IMDB

def _review_id(path):
    return int(path.name.split("_", 1)[0])


def load_imdb(split="train", data_dir=None):
    """Raw reviews and labels of one split of aclImdb.

    split: "train" or "test" (25,000 reviews each: negative ones first, then
    positive ones, each in order of review id) or "unsup" (50,000 unlabelled).
    data_dir: the cache folder (see `cache_dir`).
    Returns (texts: list of n str, labels: int64 array (n,)), label 0 for a
    negative review (rating 1-4), 1 for a positive one (7-10), -1 for an
    unlabelled one. The text is raw, `<br />` tags included.
    Only when the cache lacks the split does it extract the original archive
    aclImdb_v1.tar.gz, from the cache if there, else downloaded.
    Cite: Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011.
    """
    if split not in IMDB_SPLITS:
        raise ValueError(f"split must be one of {list(IMDB_SPLITS)}; got {split!r}")
    root = _resolve(data_dir)
    folders = IMDB_SPLITS[split]
    problems = _imdb_problems(root / "aclImdb", folders)
    if problems:
        root.mkdir(parents=True, exist_ok=True)
        archive = root / "aclImdb_v1.tar.gz"
        found = (root / "aclImdb").exists()
        _fetch(IMDB_URL, archive, IMDB_SHA256, "aclImdb (the IMDB reviews)", root,
               data_dir is not None, problems if found else [])
        _install_imdb(archive, root, _REFETCH)
    texts, labels = [], []
    for folder in folders:
        paths = sorted((root / "aclImdb" / folder).glob("*.txt"), key=_review_id)
        texts += [path.read_text(encoding="utf-8") for path in paths]
        labels += [_LABELS[Path(folder).name]] * len(paths)
    return texts, np.array(labels, dtype=np.int64)


# TensorFlow is imported inside the functions that need it: the loaders and
# the seed command run without it, and importing it takes seconds.
_BREAK = r"<br\s*/?>"
_PUNCTUATION = f"[{re.escape(string.punctuation)}]"


def imdb_movie_split(n_validation=5_000, seed=0, data_dir=None):
    """(fit, validation): row indices of the training reviews (`load_imdb("train")` order), no movie in both.

    Whole movies, drawn at random with `seed`, go to validation until it
    holds at least n_validation reviews: the test reviews are about other
    movies than the training ones, so a random split of reviews would
    flatter a model that remembers titles and names. Movies are read from
    aclImdb's urls_neg.txt / urls_pos.txt (one IMDb address per review).
    """
    root = cache_dir(data_dir) / "aclImdb" / "train"
    movies = []
    for label in ("neg", "pos"):
        urls = (root / f"urls_{label}.txt").read_text(encoding="utf-8").split()
        movies += [urls[i] for i in sorted(map(_review_id, (root / label).glob("*.txt")))]
    movies = np.array(movies)
    chosen, count = set(), 0
    for movie in np.random.default_rng(seed).permutation(np.unique(movies)):
        if count >= n_validation:
            break
        chosen.add(movie)
        count += int(np.sum(movies == movie))
    held_out = np.isin(movies, list(chosen))
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)


def imdb_fit_and_eval(validation=False, data_dir=None):
    """(fit texts, fit labels, eval texts, eval labels, what the evaluation is on) for a benchmark run.

    validation False: the 25,000 training reviews and the 25,000 test ones.
    True: the training reviews split by `imdb_movie_split` (the test set
    stays unseen while choosing): about 20,000 to fit, 5,000 of other movies
    to evaluate.
    """
    train_texts, train_labels = load_imdb("train", data_dir)
    if not validation:
        return (train_texts, train_labels, *load_imdb("test", data_dir), "test reviews")
    fit, held_out = imdb_movie_split(data_dir=data_dir)
    return ([train_texts[i] for i in fit], train_labels[fit], [train_texts[i] for i in held_out],
            train_labels[held_out], "validation reviews (held-out movies)")


def imdb_standardize(text):
    """Lowercase, `<br />` tags to spaces, ASCII punctuation deleted.

    text: string tensor of any shape. Returns a string tensor of that shape.
    Pass it as `keras.layers.TextVectorization(standardize=imdb_standardize)`.
    """
    import tensorflow as tf

    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, _BREAK, " ")
    return tf.strings.regex_replace(text, _PUNCTUATION, "")


def _check_texts(name, texts):
    if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
        raise TypeError(f"{name} must be a list of str (one review each)")
    if len(texts) == 0:
        raise ValueError(f"{name} must hold at least one text; got none")


def make_imdb_vectorizer(train_texts, vocab_size=20_000, seq_len=200):
    """A TextVectorization whose vocabulary comes from `train_texts` alone.

    train_texts: the training reviews only, so that no word of the test set
    leaks into the vocabulary. vocab_size: the most tokens kept, counting
    0 (padding) and 1 ([UNK], every word out of the vocabulary); None keeps all.
    Maps a batch of n texts to int64 token ids (n, seq_len), cut or 0-padded.
    """
    import keras
    import tensorflow as tf

    _check_texts("train_texts", train_texts)
    if vocab_size is not None and (not isinstance(vocab_size, int) or vocab_size < 3):
        raise ValueError(
            f"vocab_size must be an int >= 3 (padding, [UNK], a word) or None; got {vocab_size!r}"
        )
    if not isinstance(seq_len, int) or seq_len < 1:
        raise ValueError(f"seq_len must be a positive int; got {seq_len!r}")
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocab_size,
        output_mode="int",
        output_sequence_length=seq_len,
        standardize=imdb_standardize,
    )
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(train_texts)).batch(1024))
    return vectorizer


def texts_to_ids(vectorizer, texts, chunk=2_000):
    """vectorizer(texts) as an int32 NumPy array (len(texts), seq_len), `chunk` texts at a time."""
    from keras import ops

    _check_texts("texts", texts)
    return np.concatenate([ops.convert_to_numpy(vectorizer(texts[i:i + chunk]))
                           for i in range(0, len(texts), chunk)]).astype("int32")


def imdb_dataset(texts, labels, vectorizer, batch_size=32, shuffle=False, seed=None):
    """A tf.data pipeline of (token ids (batch, seq_len), labels (batch,)).

    texts: n str; labels: n ints, or None for batches of token ids alone;
    vectorizer: e.g. from `make_imdb_vectorizer`. shuffle: reshuffle the n
    reviews every epoch (load_imdb returns them sorted by label).
    """
    import tensorflow as tf

    _check_texts("texts", texts)
    if labels is not None and len(labels) != len(texts):
        raise ValueError(
            f"labels must have one entry per text: {len(texts)} texts, {len(labels)} labels"
        )
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    if labels is None:
        data = tf.data.Dataset.from_tensor_slices(list(texts))
    else:
        data = tf.data.Dataset.from_tensor_slices((list(texts), np.asarray(labels)))
    if shuffle:
        data = data.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if labels is None:
        data = data.map(vectorizer, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        data = data.map(lambda x, y: (vectorizer(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    return data.prefetch(tf.data.AUTOTUNE)


def stratified_subset(texts, labels, n, seed=0):
    """n of the (text, label) pairs, drawn at random, each class keeping its share.

    Each class gets n times its share, rounded so the counts sum to n (within
    one of the exact share). Returns (texts: list of n, labels: array (n,)) in
    their original order.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(texts):
        raise ValueError(
            f"labels must have shape (len(texts),) = ({len(texts)},); got shape {labels.shape}"
        )
    if not isinstance(n, (int, np.integer)) or not 0 <= n <= len(texts):
        raise ValueError(f"n must be an int between 0 and len(texts) = {len(texts)}; got {n!r}")
    classes, counts = np.unique(labels, return_counts=True)
    exact = n * counts / len(labels)
    quota = np.floor(exact).astype(int)
    # Hand the remaining few to the classes whose exact share lost the most.
    for i in np.argsort(quota - exact, kind="stable")[: n - quota.sum()]:
        quota[i] += 1
    rng = np.random.default_rng(seed)
    chosen = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(labels == c), size=q, replace=False)
        for c, q in zip(classes, quota)
    ]))
    return [texts[i] for i in chosen], labels[chosen]


# ---------------------------------------------------------------------- spa-eng

def load_spa_eng(data_dir=None):
    """The 118,964 (english, spanish) sentence pairs of spa-eng, in file order.

    Many English sentences come with several translations, one pair each:
    split with `split_by_english`, or the test set leaks. Data from the
    Tatoeba project via www.manythings.org/anki, CC BY 2.0 France.
    Only when the cache lacks them does it extract spa-eng.zip, from the
    cache if there, else downloaded; with no published checksum, the archive
    is checked by its content.
    """
    root = _resolve(data_dir)
    pairs, problems = _read_spa_eng(root / "spa-eng")
    if problems:
        root.mkdir(parents=True, exist_ok=True)
        archive = root / "spa-eng.zip"
        found = (root / "spa-eng").exists()
        _fetch(SPA_ENG_URL, archive, None, "spa-eng (the sentence pairs)", root,
               data_dir is not None, problems if found else [])
        _install_spa_eng(archive, root, _REFETCH)
        pairs, _ = _read_spa_eng(root / "spa-eng")
    return pairs


def spa_standardize(text):
    """Lowercase; keep letters (accented too), digits, apostrophes and [ ];
    set ¿ ¡ ? ! . , apart as tokens of their own; other characters become spaces.

    text: string tensor of any shape. Returns a string tensor of that shape,
    e.g. "¿Dónde está el baño?" -> "¿ dónde está el baño ?". Square brackets
    survive so that "[start]" and "[end]" markers stay whole.
    """
    import tensorflow as tf

    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, r"[^\p{L}\p{N}\s'\[\]¿¡?!.,]", " ")
    text = tf.strings.regex_replace(text, r"([¿¡?!.,])", r" \1 ")
    text = tf.strings.regex_replace(text, r"\s+", " ")
    return tf.strings.strip(text)


def _spans(pairs, fractions, count):
    """[(start, end)] cutting `count` items into shares `fractions` (checked), for a split of `pairs`."""
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or len(fractions) == 0 or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1):
        raise ValueError(f"fractions must be non-negative numbers that sum to 1; got {fractions.tolist()}")
    if len(pairs) == 0:
        raise ValueError("pairs must hold at least one (english, spanish) pair; got none")
    ends = np.round(np.cumsum(fractions) * count).astype(int)
    ends[-1] = count
    return list(zip([0, *ends[:-1]], ends))


def split_by_english(pairs, fractions=(0.8, 0.1, 0.1), seed=0):
    """Split `pairs` so that all pairs of one English sentence land in one part.

    pairs: (english, spanish) tuples. fractions: the share of distinct English
    sentences per part, summing to 1. Returns one list of pairs per fraction,
    each in the order of `pairs`.
    """
    english = list(dict.fromkeys(pair[0] for pair in pairs))
    spans = _spans(pairs, fractions, len(english))
    order = np.random.default_rng(seed).permutation(len(english))
    part_of = {}
    for part, (start, end) in enumerate(spans):
        part_of.update((english[i], part) for i in order[start:end])
    parts = [[] for _ in spans]
    for pair in pairs:
        parts[part_of[pair[0]]].append(pair)
    return tuple(parts)


def split_by_line(pairs, fractions=(0.8, 0.1, 0.1), seed=0):
    """Split `pairs` line by line at random, as one should NOT (notebook 09, section 2).

    The translations of one English sentence can land in different parts, so
    the test part holds sentences seen in training. For measuring that leak
    only; `split_by_english` is the honest split. Returns one list of pairs
    per fraction, in random order.
    """
    spans = _spans(pairs, fractions, len(pairs))
    order = np.random.default_rng(seed).permutation(len(pairs))
    return tuple([pairs[i] for i in order[start:end]] for start, end in spans)


# ------------------------------------------------------------------ the command

def main(argv=None):
    """`python -m helpers.data seed FOLDER`: fill the cache from local archives."""
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeder = commands.add_parser("seed", help="extract the archives in FOLDER into the cache")
    archives = ", ".join(file for file, _ in SEED_ARCHIVES.values())
    seeder.add_argument("folder", help=f"folder holding {archives}")
    seeder.add_argument("--data-dir",
                        help="the cache (default: $HOSA_DATA_DIR or the repository's data/)")
    seeder.add_argument("--if-present", action="store_true",
                        help="do nothing when FOLDER does not exist (set-up on any machine)")
    seeder.add_argument("--only", nargs="+", choices=list(SEED_ARCHIVES), metavar="NAME",
                        help=f"seed only these data sets, among {', '.join(SEED_ARCHIVES)}")
    args = parser.parse_args(argv)
    if args.if_present and not Path(args.folder).is_dir():
        print(f"no folder {args.folder}: nothing to seed; data sets download on first use")
        return 0
    try:
        seed(args.folder, args.data_dir, args.only)
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
