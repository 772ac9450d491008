"""Self-checks for the exercises of notebook 04_masks.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _reference_softmax, _report


def _array_hint(got, wrong, otherwise):
    """The explanation of the first typical wrong array equal to `got`, else `otherwise`."""
    return next((why for array, why in wrong if np.array_equal(got, array)), otherwise)


def _padding_mask_problem(fn):
    for pad_id in (0, 9):  # real tokens are 1..8, so both ids are free for padding
        ids = np.array([[4, 7, 2, pad_id, pad_id], [5, 1, pad_id, pad_id, pad_id], [3, 8, 6, 2, 1]])
        got, problem = _call(fn, ids, pad_id)
        if problem:
            return problem
        real = ids != pad_id
        if got.shape == real.shape:
            return ("the mask is (batch, n): add an axis for the queries, (batch, 1, n), so that it "
                    "broadcasts over the scores (batch, n_q, n_k) and hides keys for every query.")
        if got.shape == (3, 5, 1):
            return ("the mask is (batch, n, 1): that hides padding queries (rows). Padding must hide "
                    "keys (columns): put the new axis in the middle, (batch, 1, n).")
        if got.shape != (3, 1, 5):
            return f"token ids (batch, n) = (3, 5) give a mask (batch, 1, n) = (3, 1, 5); got {got.shape}."
        if got.dtype != bool:
            return f"the mask must be boolean (True where attention is allowed); got dtype {got.dtype}."
        want = real[:, np.newaxis, :]
        if np.array_equal(got, ~want):
            return "True and False are swapped: True marks a real token, a key that may be attended to."
        if pad_id != 0 and got.all():
            return (f"every key is allowed with pad_id = {pad_id}: compare the ids with the pad_id "
                    "argument, not with 0.")
        if not np.array_equal(got, want):
            return "entry [b, 0, j] must be True exactly where token j of example b is not pad_id."
    return None


def check_04_padding_mask(your_padding_mask):
    """Exercise 04.1: your_padding_mask(token_ids, pad_id) -> boolean (batch, 1, n),
    True where the key is a real token."""
    return _report(_padding_mask_problem(your_padding_mask),
                   "(batch, 1, n), True at real tokens: every query skips the <pad> keys.")


def _combined_mask_problem(fn):
    ids = np.array([[4, 7, 2, 0, 0], [5, 1, 0, 0, 0], [3, 8, 6, 2, 1]])
    got, problem = _call(fn, ids, 0)
    if problem:
        return problem
    keys = (ids != 0)[:, np.newaxis, :]
    causal = np.tril(np.ones((5, 5), dtype=bool))
    want = keys & causal
    if got.shape == (5, 5):
        return ("that is one (n, n) mask for the whole batch; each example has its own padding, "
                "so the result is (batch, n, n) = (3, 5, 5).")
    if got.shape == (3, 1, 5):
        return ("this is the padding mask alone, (batch, 1, n): combine it with the causal mask (n, n) "
                "to get (batch, n, n).")
    if got.shape != want.shape:
        return f"token ids (3, 5) give a mask (batch, n, n) = (3, 5, 5); got {got.shape}."
    if got.dtype != bool:
        return f"the mask must be boolean (True where attention is allowed); got dtype {got.dtype}."
    if np.array_equal(got, want):
        return None
    wrong = [
        (keys | causal, "you combined with OR: a key is allowed only where EVERY mask allows it, "
                        "so combine with AND (&)."),
        (keys & causal.T, "the causal part is the upper triangle: query i would see the future keys j > i."),
        (np.broadcast_to(causal, want.shape), "the padding part is missing: the <pad> keys are still visible."),
        (np.broadcast_to(keys, want.shape), "the causal part is missing: every query sees the future."),
        ((ids != 0)[:, :, np.newaxis] & causal,
         "the padding hides queries (rows) instead of keys (columns): use (batch, 1, n), not (batch, n, 1)."),
    ]
    return _array_hint(got, wrong,
                       "entry [b, i, j] must be True exactly where j <= i and token j of example b is not padding.")


def check_04_combined_mask(your_combined_mask):
    """Exercise 04.2: your_combined_mask(token_ids, pad_id) -> boolean (batch, n, n),
    padding AND causal."""
    return _report(_combined_mask_problem(your_combined_mask),
                   "padding AND causal, (batch, n, n): no <pad> keys and no future keys.")


def _fully_masked_problem(fn):
    causal = np.tril(np.ones((5, 5), dtype=bool))
    left_padded = np.array([[0, 0, 4, 7, 2], [0, 0, 0, 5, 1], [3, 8, 6, 2, 1]])
    random = _RNG.random((2, 5, 5)) < 0.4
    random[:, 0] = True  # no key is masked for every query ...
    random[:, 1] = random[:, 3] = False  # ... but queries 1 and 3 have no key left
    masks = ((left_padded != 0)[:, np.newaxis, :] & causal, random)
    for mask in masks:
        got, problem = _call(fn, mask)
        if problem:
            return problem
        want = ~mask.any(axis=-1)
        if got.shape == want.shape + (1,):
            return f"one answer per query, shape (batch, n_q) = {want.shape}; got {got.shape} (drop keepdims)."
        if got.shape != want.shape:
            return (f"a mask (batch, n_q, n_k) = {mask.shape} has one row per query: "
                    f"(batch, n_q) = {want.shape}; got {got.shape}.")
        if got.dtype != bool:
            return f"the answer must be boolean (True = no key left); got dtype {got.dtype}."
        if np.array_equal(got, want):
            continue
        wrong = [
            (~want, "True and False are swapped: True must mark the rows that have NO allowed key."),
            (~mask.all(axis=-1), "you marked every row with at least one masked key; a row is fully "
                                 "masked only when ALL its keys are masked: ~mask.any(axis=-1)."),
            (~mask.any(axis=-2), "you looked down the columns (one per key, axis -2); a query's row "
                                 "runs over the keys, axis=-1."),
        ]
        return _array_hint(got, wrong, "entry [b, i] must be True exactly where mask[b, i, :] is all False.")
    return None


def check_04_fully_masked_rows(your_fully_masked_rows):
    """Exercise 04.3: your_fully_masked_rows(mask) -> boolean (batch, n_q),
    True for a query with no allowed key; mask (batch, n_q, n_k)."""
    return _report(_fully_masked_problem(your_fully_masked_rows),
                   "a row is fully masked when no key is allowed: ~mask.any(axis=-1).")


def _masked_softmax_problem(fn):
    scores = _RNG.normal(size=(2, 4, 5))
    mask = _RNG.random((2, 4, 5)) < 0.6
    mask[..., 1] = True
    mask[0, 2] = False  # one query with no key at all
    with np.errstate(all="ignore"):
        got, problem = _call(fn, scores, mask)
    if problem:
        return problem
    if got.shape != scores.shape:
        return f"the weights keep the scores' shape {scores.shape}; got {got.shape}."
    live = mask.any(axis=-1)
    exp = np.where(mask, np.exp(scores - scores.max(axis=-1, keepdims=True)), 0.0)
    total = exp.sum(axis=-1, keepdims=True)
    want = exp / np.where(total > 0, total, 1.0)
    if np.isnan(got[live]).any():
        return "NaN in rows that have allowed keys: compute the softmax over the allowed keys only."
    if np.isnan(got).any():
        return ("the fully masked row [0, 2] is NaN: with -inf for every key, its maximum is -inf and "
                "-inf - (-inf) = NaN. A row with no allowed key must get zero weights.")
    if np.allclose(got, _reference_softmax(scores)):
        return "the mask is not applied: masked keys must get weight 0."
    if np.allclose(got, np.where(mask, _reference_softmax(scores), 0.0)):
        return ("you zeroed the masked weights after a plain softmax, so the rows no longer sum to 1. "
                "Mask the scores first (a very negative score for masked keys), then take the softmax.")
    if not np.allclose(got[live], want[live], atol=1e-6):
        return "the rows with allowed keys are not the softmax of their allowed scores (masked keys get 0)."
    if np.allclose(got[~live], 1 / scores.shape[-1]):
        return ("the fully masked row [0, 2] got uniform weights 1/5: every score was replaced by the same "
                "large negative number. It has no key to attend to, so its weights must be 0 "
                "(set the masked weights to 0 after the softmax).")
    if not np.allclose(got[~live], 0.0):
        return f"the fully masked row [0, 2] must be all zeros; got {np.round(got[~live], 3)}."
    return None


def check_04_masked_softmax(your_masked_softmax):
    """Exercise 04.4: your_masked_softmax(scores, mask) -> weights, softmax over the allowed keys,
    0 for masked keys, and all zeros (never NaN) for a row with no allowed key."""
    return _report(_masked_softmax_problem(your_masked_softmax),
                   "allowed keys share weight 1, masked keys get 0, and a fully masked row is zeros, not NaN.")
