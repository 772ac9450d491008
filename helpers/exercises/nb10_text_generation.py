"""Self-checks for the exercises of notebook 10_text_generation.ipynb."""
import numpy as np

from helpers.exercises._common import _RNG, _call, _reference_softmax, _report


def _reference_top_p(probs, p):
    order = np.argsort(-probs, kind="stable")
    before = np.cumsum(probs[order]) - probs[order]
    kept = np.zeros_like(probs)
    kept[order[before < p]] = probs[order[before < p]]
    return kept / kept.sum()


def _top_p_problem(fn):
    probs = np.array([0.1, 0.4, 0.05, 0.25, 0.2])  # ranked: ids 1, 3, 4, 0, 2
    p = 0.7
    got, problem = _call(fn, probs.copy(), p)
    if problem:
        return problem
    want = _reference_top_p(probs, p)
    if got.shape != probs.shape:
        return f"return one probability per token, shape {probs.shape}; got shape {got.shape}."
    if np.allclose(got, np.sort(want)[::-1], atol=1e-9) and not np.allclose(got, want, atol=1e-9):
        return ("the kept probabilities are in ranked order: put each one back at its token's id "
                "(token 1 is the most likely, not token 0).")
    kept = got > 0
    if np.array_equal(kept, want > 0) and not np.isclose(got.sum(), 1.0):
        return f"renormalise: the kept probabilities must sum to 1; yours sum to {got.sum():.3f}."
    if np.array_equal(kept, np.isin(np.arange(len(probs)), [1, 3])):
        return ("the token that crosses p must be kept: 0.4 + 0.25 = 0.65 is still short of 0.7, so token 4 "
                "(0.2), which takes the total past 0.7, belongs to the nucleus. Keep a token while the mass "
                "*before* it is < p.")
    if kept.sum() == (want > 0).sum() + 1:
        return ("one token too many: stop once the kept mass reaches p; a token whose predecessors already "
                "reach p is cut.")
    if kept.all():
        return ("every token was kept: sort from the most likely down and stop once the kept mass reaches p "
                "(sorted from the least likely, the mass before each token stays under p too long).")
    if kept[2] and not kept[1]:
        return "you kept the least likely tokens: sort from the most likely down."
    if not np.allclose(got, want, atol=1e-9):
        return (f"for probs {probs.tolist()} and p = {p} the nucleus is tokens 1, 3, 4 (0.4 + 0.25 + 0.2), "
                f"renormalised to {np.round(want, 4).tolist()}; got {np.round(got, 4).tolist()}.")
    return None


def check_10_top_p(your_top_p):
    """Exercise 10.1: your_top_p(probs, p) -> the nucleus of probs, renormalised, at the tokens' ids."""
    return _report(_top_p_problem(your_top_p),
                   "the smallest set of most likely tokens whose mass reaches p, crossing token included.")


def _several(fn, args, count, what):
    """(the answer's `count` results as arrays, problem): None and why when it fails or returns otherwise."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:  # a student's bug: report it instead of a stack trace
        return None, f"calling it raised {type(err).__name__}: {err}"
    if not isinstance(result, (tuple, list)) or len(result) != count:
        return None, f"return {what}."
    return [np.asarray(part) for part in result], None


def _perplexity_problem(fn):
    nll = _RNG.uniform(0.5, 6.0, size=200)
    n_words = 140
    result, problem = _several(fn, (nll.copy(), n_words), 2, "two numbers, (per_token, per_word)")
    if problem:
        return problem
    per_token, per_word = (float(x) for x in result)
    want_token, want_word = np.exp(nll.mean()), np.exp(nll.sum() / n_words)
    if np.isclose(per_token, want_word) and np.isclose(per_word, want_token):
        return "the two are swapped: per token divides the total NLL by 200 tokens, per word by 140 words."
    if np.isclose(per_token, 2 ** nll.mean()):
        return "the NLL is in nats (natural log): perplexity is e ** mean, not 2 ** mean."
    if np.isclose(per_token, np.exp(nll).mean()):
        return "exp of the mean, not the mean of exp: perplexity = exp(mean NLL), a geometric mean of 1/p."
    if not np.isclose(per_token, want_token):
        return f"per token: exp(mean NLL) = {want_token:.2f}; got {per_token:.2f}."
    if np.isclose(per_word, want_token * 200 / 140) or np.isclose(per_word, want_token ** (140 / 200)):
        return ("per word spreads the same total NLL over the words: exp(sum(nll) / n_words) "
                "= per_token ** (tokens / words).")
    if not np.isclose(per_word, want_word):
        return f"per word: exp(sum(nll) / n_words) = {want_word:.2f}; got {per_word:.2f}."
    return None


def check_10_perplexities(your_perplexities):
    """Exercise 10.2: your_perplexities(nll, n_words) -> (per-token, per-word perplexity)."""
    return _report(_perplexity_problem(your_perplexities),
                   "exp(total NLL / tokens) and exp(total NLL / words): one total, two denominators.")


def _reference_distinct(texts, n):
    grams = [tuple(words[i:i + n]) for words in (t.split() for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams)


def _distinct_problem(fn):
    texts = ["the film is good", "the film is bad", "good good good"]
    got, problem = _call(fn, list(texts), 2)
    if problem:
        return problem
    if got.shape != ():
        return f"return one number; got shape {got.shape}."
    got = float(got)
    want = _reference_distinct(texts, 2)  # 8 bigrams, 5 distinct
    if np.isclose(got, _reference_distinct(texts, 1)):
        return "that is distinct-1: count n-grams of n words (here pairs), not single words."
    if np.isclose(got, _reference_distinct([" ".join(texts)], 2)):
        return "the texts were joined: an n-gram must not run from the end of one sample into the next."
    if np.isclose(got, np.mean([_reference_distinct([t], 2) for t in texts])):
        return "that averages each text's share; count distinct n-grams over all samples together."
    if np.isclose(got, 1 / want):
        return "upside down: distinct n-grams divided by all n-grams (at most 1)."
    if not np.isclose(got, want):
        return f"5 distinct of the 8 bigrams gives {want:.3f}; got {got:.3f}."
    return None


def check_10_distinct_n(your_distinct_n):
    """Exercise 10.3: your_distinct_n(texts, n) -> distinct word n-grams / all word n-grams."""
    return _report(_distinct_problem(your_distinct_n),
                   "distinct n-grams over all samples / all n-grams: 1 means no repetition at all.")


def _reference_step(q, k_cache, v_cache, k_new, v_new, t):
    k_cache, v_cache = k_cache.copy(), v_cache.copy()
    k_cache[t], v_cache[t] = k_new, v_new
    scores = k_cache[:t + 1] @ q / np.sqrt(len(q))
    weights = _reference_softmax(scores)
    return weights @ v_cache[:t + 1], k_cache, v_cache


def _cache_step_problem(fn):
    capacity, d, t = 8, 4, 3
    k_cache, v_cache = np.zeros((capacity, d)), np.zeros((capacity, d))
    k_cache[:t], v_cache[:t] = _RNG.normal(size=(t, d)), _RNG.normal(size=(t, d))
    q, k_new, v_new = _RNG.normal(size=d), _RNG.normal(size=d), _RNG.normal(size=d)
    result, problem = _several(fn, (q, k_cache.copy(), v_cache.copy(), k_new, v_new, t), 3,
                               "three arrays: (output (d,), k_cache, v_cache)")
    if problem:
        return problem
    output, k_got, v_got = result
    want, k_want, v_want = _reference_step(q, k_cache, v_cache, k_new, v_new, t)
    if k_got.shape != (capacity, d):
        return (f"the cache keeps its shape ({capacity}, {d}): write the new key into row t, do not append "
                f"(got {k_got.shape}).")
    if np.allclose(k_got[t + 1], k_new) and not np.allclose(k_got[t], k_new):
        return f"the new key goes into row t = {t} (positions start at 0), not t + 1."
    if not (np.allclose(k_got, k_want) and np.allclose(v_got, v_want)):
        return "write k_new into k_cache[t] and v_new into v_cache[t], leaving the other rows as they are."
    scores = k_want @ q / np.sqrt(d)
    if np.allclose(output, _reference_softmax(scores) @ v_want):
        return ("the query attends to empty cache rows after t: mask positions > t (or slice [:t + 1]) "
                "before the softmax.")
    if np.allclose(output, _reference_softmax(k_want[:t] @ q / np.sqrt(d)) @ v_want[:t]):
        return "the new token must attend to itself too: positions 0 .. t, t included."
    if np.allclose(output, _reference_softmax(k_want[:t + 1] @ q) @ v_want[:t + 1]):
        return "the scores miss the 1/sqrt(d_k) scaling."
    if output.shape != (d,) or not np.allclose(output, want):
        return "output = softmax(K[:t + 1] q / sqrt(d)) @ V[:t + 1], one vector (d,)."
    return None


def check_10_cache_step(your_cache_step):
    """Exercise 10.4: your_cache_step(q, k_cache, v_cache, k_new, v_new, t) -> (output, k_cache, v_cache)."""
    return _report(_cache_step_problem(your_cache_step),
                   "write at t, attend over 0 .. t: one new key and value per step, nothing recomputed.")
