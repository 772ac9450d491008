"""Subword tokens: a byte-level BPE vocabulary learned from the reviews (notebook 10).

Byte-pair encoding (Sennrich et al., 2016) starts from single characters and
merges the most frequent adjacent pair into a new token, again and again,
until the vocabulary has `vocab_size` entries. Byte-level BPE (GPT-2,
Radford et al., 2019) starts from the 256 bytes, so every string, however
rare its words, splits into known tokens: there is no [UNK]. The merges are
learned, and the text encoded, by Hugging Face's `tokenizers` package.

    clean_review(text)                          `<br />` tags -> newlines
    train_bpe(texts, vocab_size)                a tokenizers.Tokenizer
    load_or_train_bpe(texts, path, vocab_size)  the same, cached in a JSON file
    encode_stream(tokenizer, texts)             EOT review EOT review ...: one uint16 stream
    load_or_encode(tokenizer, texts, path)      the same, cached in a .npz file
    token_strings(tokenizer, ids)               what each id reads as

Id 0 is EOT, "<|endoftext|>": it opens every review in a stream, so a
model learns where a review starts and can be asked to write one from nothing.
"""
import hashlib
import re
from pathlib import Path

import numpy as np

from helpers.data import write_whole

__all__ = ["EOT", "EOT_ID", "clean_review", "train_bpe", "load_or_train_bpe", "encode_stream",
           "load_or_encode", "token_strings"]

EOT = "<|endoftext|>"
EOT_ID = 0
_BREAK = re.compile(r"<br\s*/?>")


def clean_review(text):
    """A raw aclImdb review with its `<br />` tags turned into newlines."""
    return _BREAK.sub("\n", text)


def _check_texts(texts):
    if isinstance(texts, str) or not all(isinstance(text, str) for text in texts):
        raise TypeError("texts must be a list of str (one review each)")
    if len(texts) == 0:
        raise ValueError("texts must hold at least one text; got none")


def train_bpe(texts, vocab_size=8_000):
    """A byte-level BPE tokenizer whose merges are learned from `texts`.

    texts: list of str (cleaned reviews: training data only, never test
    data); vocab_size: entries in the vocabulary, EOT (id 0) and the 256
    byte tokens included (> 257). Returns a `tokenizers.Tokenizer`:
    `.encode(text).ids` gives token ids, `.decode(ids)` the text back.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    _check_texts(texts)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size <= 257:
        raise ValueError(f"vocab_size must be an int > 257 (EOT and the 256 bytes); got {vocab_size!r}")
    tokenizer = Tokenizer(models.BPE())
    # GPT-2's pre-tokenizer: split before spaces and punctuation, each byte as a printable character
    # (a space reads "Ġ", a newline "Ċ"), so merges never cross a word boundary.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=int(vocab_size), special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def load_or_train_bpe(texts, path, vocab_size=8_000):
    """(tokenizer, trained): the tokenizer saved at `path` (a .json file), else one trained on `texts` and saved there.

    trained is True when it was trained now. The file is written whole
    (`helpers.data.write_whole`), so a second kernel never reads half of it.
    A saved tokenizer of another vocab_size is trained again.
    """
    from tokenizers import Tokenizer

    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"path must end in .json; got {str(path)!r}")
    if path.is_file():
        tokenizer = Tokenizer.from_file(str(path))
        if tokenizer.get_vocab_size() == vocab_size:
            return tokenizer, False
    tokenizer = train_bpe(texts, vocab_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda tmp: tokenizer.save(str(tmp)))
    return tokenizer, True


def encode_stream(tokenizer, texts):
    """All `texts` as one stream of token ids: EOT, text 0, EOT, text 1, ...

    Returns uint16 (n_tokens,) (every vocabulary here has fewer than 65,536
    entries) and the start of each text's EOT in it, int64 (len(texts),).
    """
    _check_texts(texts)
    if tokenizer.get_vocab_size() > 65_536:
        raise ValueError(f"tokenizer must have at most 65,536 tokens for uint16 ids; "
                         f"it has {tokenizer.get_vocab_size():,}")
    encoded = [[EOT_ID, *e.ids] for e in tokenizer.encode_batch(list(texts))]
    lengths = np.array([len(ids) for ids in encoded], dtype=np.int64)
    stream = np.concatenate([np.array(ids, dtype=np.uint16) for ids in encoded])
    return stream, np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)


def _fingerprint(tokenizer, texts):
    """A digest of the tokenizer and of the texts: a cached stream is reused only for both unchanged."""
    digest = hashlib.sha256(tokenizer.to_str().encode("utf-8"))
    for text in texts:
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def load_or_encode(tokenizer, texts, path):
    """`encode_stream(tokenizer, texts)`, kept in `path` (a .npz file) for the next run.

    The file also holds a digest of the tokenizer and the texts; when either
    differs (another vocabulary, other reviews), the texts are encoded again
    and the file replaced, written whole. Returns (stream, starts).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end in .npz; got {str(path)!r}")
    _check_texts(texts)
    fingerprint = _fingerprint(tokenizer, texts)
    if path.is_file():
        with np.load(path) as saved:
            if str(saved["fingerprint"]) == fingerprint:
                return saved["stream"], saved["starts"]
    stream, starts = encode_stream(tokenizer, texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, lambda tmp: np.savez(tmp, stream=stream, starts=starts, fingerprint=fingerprint))
    return stream, starts


def token_strings(tokenizer, ids):
    """What each token id reads as, decoded on its own: e.g. [" movie", " was", "\\n"]."""
    return [tokenizer.decode([int(i)], skip_special_tokens=False) for i in np.asarray(ids).ravel()]
