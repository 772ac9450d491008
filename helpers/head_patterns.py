"""What each attention head looks at, measured over many sentences (Clark et al., 2019).

For every head of every layer, averaged over all real (not padding) query
tokens of all sentences:

    to [CLS]       mean_i a_i,0                      (the first token)
    to [SEP]       mean_i a_i,last                   (the last real token)
    to punctuation mean_i sum_{j punctuation} a_i,j
    to previous    mean_{i >= 1} a_i,i-1
    to next        mean_{i < last} a_i,i+1
    entropy        mean_i -sum_j a_i,j log a_i,j     (nats), beside
    uniform        mean_i log(n)                     the entropy of attending to all n tokens evenly

with a_i,j the weight query i gives key j.
"""
import string
import unicodedata

import numpy as np

__all__ = ["PATTERNS", "punctuation_ids", "HeadStatistics", "heads_above"]

PATTERNS = ("[CLS]", "[SEP]", "punctuation", "previous", "next")


def punctuation_ids(vocabulary):
    """Ids of the tokens made of punctuation only; vocabulary: token -> id (WordPiece's "##" pieces excluded)."""
    def punctuation(token):
        return bool(token) and not token.startswith("##") and all(c in string.punctuation or unicodedata.category(c).startswith("P")
                                   for c in token)
    return np.array(sorted(i for token, i in vocabulary.items() if punctuation(token)), dtype="int64")


class HeadStatistics:
    """Running sums of the statistics above; add batches with `add`, read `means()`.

    layers, heads: the model's; punctuation: ids counted as punctuation.
    """

    def __init__(self, layers, heads, punctuation):
        self.punctuation = np.asarray(punctuation)
        self.sums = {name: np.zeros((layers, heads)) for name in (*PATTERNS, "entropy", "uniform")}
        self.counts = {name: 0 for name in self.sums}
        self.sentences = 0

    def add(self, attention, ids):
        """attention (batch, layers, heads, n, n), ids (batch, n) with 0 = padding."""
        attention, ids = np.asarray(attention, dtype="float64"), np.asarray(ids)
        b, layers, heads, n, m = attention.shape
        if ids.shape != (b, n) or n != m or (layers, heads) != self.sums["[CLS]"].shape:
            raise ValueError(f"attention must be (batch, layers, heads, n, n) = (b, {self.sums['[CLS]'].shape[0]}, "
                             f"{self.sums['[CLS]'].shape[1]}, n, n) and ids (batch, n); got {attention.shape} "
                             f"and {ids.shape}")
        real = ids != 0
        lengths = real.sum(1)
        q = real[:, None, None, :]                                    # real queries
        punct = np.isin(ids, self.punctuation) & real
        last = np.arange(n)[None, :] == (lengths - 1)[:, None]        # the [SEP] at the end of each row
        rows = {
            "[CLS]": attention[..., 0],
            "[SEP]": (attention * last[:, None, None, None, :]).sum(-1),
            "punctuation": (attention * punct[:, None, None, None, :]).sum(-1),
            "entropy": -(attention * np.log(np.where(attention > 0, attention, 1.0))).sum(-1),
            "uniform": np.broadcast_to(np.log(lengths)[:, None, None, None], attention.shape[:-1]),
        }
        for name, row in rows.items():
            self.sums[name] += (row * q).sum((0, 3))
            self.counts[name] += int(real.sum())
        has_previous = real[:, 1:] & real[:, :-1]                     # query i >= 1 with a real token before
        previous = np.diagonal(attention, offset=-1, axis1=-2, axis2=-1)   # a_{i+1, i}
        following = np.diagonal(attention, offset=1, axis1=-2, axis2=-1)   # a_{i, i+1}
        self.sums["previous"] += (previous * has_previous[:, None, None, :]).sum((0, 3))
        self.sums["next"] += (following * has_previous[:, None, None, :]).sum((0, 3))
        self.counts["previous"] += int(has_previous.sum())
        self.counts["next"] += int(has_previous.sum())
        self.sentences += b

    def means(self):
        """name -> (layers, heads) averages, for PATTERNS, "entropy" and "uniform"."""
        if not self.sentences:
            raise ValueError("no sentences added yet")
        return {name: total / self.counts[name] for name, total in self.sums.items()}


def heads_above(means, threshold=0.5):
    """pattern -> the (layer, head) pairs (counted from 0, as the explorers' sliders) whose average
    attention to it exceeds `threshold`."""
    return {name: [(int(l), int(h)) for l, h in zip(*np.nonzero(means[name] > threshold))]
            for name in PATTERNS}
