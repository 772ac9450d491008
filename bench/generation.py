"""Benchmark: notebook 10's GPT against n-gram baselines and the keras-io miniature GPT; the KV cache timed.

    nice -n 5 python bench/generation.py [--retrain] [--minutes M]

In one run, on the reviews of `helpers.generation.GPT_RECIPE` (75,000
training + unlabelled reviews to learn from, held-out test reviews to score):

- our GPT: loaded from data/models/10_gpt.keras when notebook 10 trained it
  (--retrain trains one afresh, into data/models/bench_gpt.keras); its
  training minutes and held-out perplexity per token and per word, beside
  add-k unigram and bigram models on the same tokens;
- the keras-io "Text generation with a miniature GPT" configuration
  (word-level TextVectorization, 20,000 words, 80 tokens, embedding 256, 2
  heads, feed-forward 256, one post-LN block, Adam, batch 128) trained for
  the same minutes on the same reviews: perplexity per word (the same total
  over the same words; its [UNK] stands for every rare word, which flatters
  it), the [UNK] share of its samples and distinct-2 beside ours, both
  sampled as the example does (top-k 10) from its prompt "this movie is";
- tokens per second generating 256 new tokens after a 64-token prompt (in
  full mode: context // 5 and the rest of the context) with
  and without the KV cache (greedy; the tokens must be identical), and the ratio.
"""
import argparse
import os
import re
import string
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import helpers

helpers.start_keras_quietly()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from helpers.data import cache_dir  # noqa: E402
from helpers.generation import (GPT_RECIPE, Decoder, choose_add_k, distinct_n, gpt_model, lm_reviews,  # noqa: E402
                                load_gpt, ngram_nll, perplexity, random_windows, save_gpt, token_nll, train_gpt)
from helpers.layers import PositionalEmbedding  # noqa: E402
from helpers.tokens import EOT_ID, load_or_encode, load_or_train_bpe  # noqa: E402

# The keras-io example's sizes.
MINI = dict(vocab_size=20_000, maxlen=80, embed_dim=256, num_heads=2, feed_forward_dim=256, batch_size=128)
PROMPT, SAMPLES, SAMPLE_WORDS, TOP_K = "this movie is", 10, 40, 10


def mini_standardize(text):
    """The example's standardisation: lowercase, <br /> removed, punctuation split off as its own token."""
    import tensorflow as tf

    text = tf.strings.regex_replace(tf.strings.lower(text), "<br />", " ")
    return tf.strings.regex_replace(text, f"([{re.escape(string.punctuation)}])", r" \1")


def miniature_gpt(vocab_size, maxlen, embed_dim, num_heads, feed_forward_dim):
    """The example's model: token + learned position embedding (ours, which also scales the tokens by
    sqrt(embed_dim)), one post-LN causal block, Dense to the vocabulary."""
    ids = keras.Input(shape=(None,), dtype="int32")
    x = PositionalEmbedding(vocab_size, maxlen, embed_dim)(ids)
    attended = keras.layers.MultiHeadAttention(num_heads, embed_dim)(x, x, use_causal_mask=True)
    x = keras.layers.LayerNormalization(epsilon=1e-6)(x + keras.layers.Dropout(0.1)(attended))
    ffn = keras.layers.Dense(embed_dim)(keras.layers.Dense(feed_forward_dim, activation="relu")(x))
    x = keras.layers.LayerNormalization(epsilon=1e-6)(x + keras.layers.Dropout(0.1)(ffn))
    return keras.Model(ids, keras.layers.Dense(vocab_size)(x))


def word_stream(vectorizer, texts, chunk=2_000):
    """All texts as one stream of word ids (no padding, no separator, as the example's vocabulary has none)."""
    parts = []
    for start in range(0, len(texts), chunk):
        rows = vectorizer(texts[start:start + chunk]).numpy()
        parts += [row[row != 0] for row in rows]
    return np.concatenate(parts).astype(np.int32)


def train_for(model, stream, minutes, maxlen, batch_size, seed=0):
    """Adam (lr 1e-3, the example's) on random windows for `minutes` of wall clock; returns the steps."""
    model.compile(keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng, steps, start = np.random.default_rng(seed), 0, time.perf_counter()
    while time.perf_counter() - start < minutes * 60:
        model.train_on_batch(*random_windows(stream, maxlen, batch_size, rng))
        steps += 1
    return steps


def window_nll(model, stream, context, batch_size=16):
    """-log p of every token after the first, in non-overlapping windows of `context` (as token_nll)."""
    count = (len(stream) - 1) // context
    x = stream[:count * context].reshape(count, context)
    y = stream[1:count * context + 1].reshape(count, context)
    nll = [keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(
        y[i:i + batch_size], model(x[i:i + batch_size]), from_logits=True)).ravel()
        for i in range(0, count, batch_size)]
    return np.concatenate(nll).astype(np.float64), count * context


def mini_sample(model, prompt_ids, words, maxlen, rng):
    """The example's sampling: the last maxlen tokens in, top-k 10 on the last logits, `words` new tokens."""
    ids = list(prompt_ids)
    for _ in range(words):
        logits = keras.ops.convert_to_numpy(model(np.array([ids[-maxlen:]], dtype=np.int32)))[0, -1]
        top = np.argsort(-logits)[:TOP_K]
        p = np.exp(logits[top] - logits[top].max())
        ids.append(int(rng.choice(top, p=p / p.sum())))
    return ids[len(prompt_ids):]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retrain", action="store_true", help="train our GPT afresh instead of loading notebook 10's")
    parser.add_argument("--minutes", type=float, help=f"training minutes for both (default {GPT_RECIPE.minutes:g})")
    args = parser.parse_args()
    recipe = GPT_RECIPE if args.minutes is None else replace(GPT_RECIPE, minutes=args.minutes)
    print(f"CPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    print(recipe)
    keras.utils.set_random_seed(0)
    models = helpers.pick(full=cache_dir() / "models", quick=Path(tempfile.mkdtemp()))  # quick: a smoke test
    lm_texts, held_out = lm_reviews(recipe)
    words = sum(len(text.split()) for text in held_out)
    tokenizer, _ = load_or_train_bpe(lm_texts, models / f"10_bpe_{recipe.vocab_size}.json", recipe.vocab_size)
    train_stream, _ = load_or_encode(tokenizer, lm_texts, models / "10_train_stream.npz")
    test_stream, test_starts = load_or_encode(tokenizer, held_out, models / "10_test_stream.npz")
    print(f"held out: {len(held_out):,} test reviews, {len(test_stream):,} tokens, {words:,} words")

    path = models / ("bench_gpt.keras" if args.retrain else "10_gpt.keras")
    if path.exists() and not args.retrain:
        model, record = load_gpt(path)
        print(f"\nour GPT: loaded {path.name} from the data cache (trained by notebook 10)")
    else:
        model = gpt_model(recipe)
        record = train_gpt(model, train_stream, recipe)
        save_gpt(path, model, record, recipe)
    print(f"our GPT: {model.count_params():,} parameters, trained {record['minutes']:.1f} min, "
          f"{record['steps']:,} steps, {record['tokens'] / 1e6:.1f}M tokens")
    rows = {f"our GPT (byte-level BPE, {recipe.vocab_size:,})": token_nll(model, test_stream)}
    for order, name in ((1, "unigram"), (2, "bigram")):
        k = choose_add_k(train_stream, recipe.vocab_size, order)
        rows[f"{name} add-{k:g}, same tokens"] = ngram_nll(train_stream, test_stream, recipe.vocab_size, order, k)
    print(f"\n{'held-out perplexity':<34} {'per token':>10} {'per word':>10}")
    for name, nll in rows.items():
        print(f"{name:<34} {perplexity(nll):>10.1f} {perplexity(nll, words):>10.1f}")

    print(f"\nkeras-io miniature GPT {MINI}, {record['minutes']:.1f} min on the same reviews")
    vectorizer = keras.layers.TextVectorization(max_tokens=MINI["vocab_size"], standardize=mini_standardize)
    vectorizer.adapt(lm_texts, batch_size=1_024)
    vocabulary = vectorizer.get_vocabulary()
    mini_train, mini_test = word_stream(vectorizer, lm_texts), word_stream(vectorizer, held_out)
    mini = miniature_gpt(MINI["vocab_size"], MINI["maxlen"], MINI["embed_dim"], MINI["num_heads"],
                         MINI["feed_forward_dim"])
    steps = train_for(mini, mini_train, record["minutes"], MINI["maxlen"], MINI["batch_size"])
    mini_nll, scored = window_nll(mini, mini_test, MINI["maxlen"])
    mini_words = words * scored / len(mini_test)  # its windows skip the last partial one: scale the words
    print(f"{mini.count_params():,} parameters, {steps:,} steps; held-out tokens [UNK]: {np.mean(mini_test == 1):.1%}")
    print(f"{'miniature GPT (words, 20k)':<34} {perplexity(mini_nll):>10.1f} {perplexity(mini_nll, mini_words):>10.1f}")

    rng = np.random.default_rng(0)
    prompt = vectorizer([PROMPT]).numpy()[0]
    mini_samples = [mini_sample(mini, prompt[prompt != 0], SAMPLE_WORDS, MINI["maxlen"], rng) for _ in range(SAMPLES)]
    mini_texts = [" ".join(vocabulary[i] for i in ids) for ids in mini_samples]
    decoder = Decoder(model)
    ours_prompt = [EOT_ID, *tokenizer.encode(PROMPT).ids]
    ours_tokens = min(int(SAMPLE_WORDS * len(test_stream) / words),  # about as many words as the example's
                      recipe.context - len(ours_prompt) + 1)
    ours_texts = [tokenizer.decode([int(t) for t in decoder.generate(ours_prompt, ours_tokens, top_k=TOP_K,
                                                                      seed=seed).tokens])
                  for seed in range(SAMPLES)]
    print(f"\n{SAMPLES} samples from {PROMPT!r}, top-k {TOP_K}:   [UNK] share   distinct-2")
    print(f"{'miniature GPT':<34} {np.mean(np.concatenate(mini_samples) == 1):>10.1%} "
          f"{distinct_n(mini_texts, 2):>10.2f}")
    print(f"{'our GPT':<34} {'none':>10} {distinct_n(ours_texts, 2):>10.2f}   (its vocabulary has no [UNK])")
    print("miniature GPT:", mini_texts[0])
    print("our GPT:      ", repr(PROMPT + ours_texts[0]))

    prompt_length = recipe.context // 5                 # 64 in full mode
    new_tokens = recipe.context - prompt_length         # 256
    prompt = test_stream[test_starts[0]:test_starts[0] + prompt_length]
    decoder.generate(prompt, 3, greedy=True)
    decoder.generate(prompt, 3, greedy=True, cache=False)
    runs = {cache: decoder.generate(prompt, new_tokens, greedy=True, cache=cache) for cache in (True, False)}
    speed = {cache: new_tokens / (run.prefill_seconds + run.step_seconds.sum()) for cache, run in runs.items()}
    print(f"\ngenerating {new_tokens} tokens after a {prompt_length}-token prompt (greedy):")
    for cache, run in runs.items():
        print(f"  {'with' if cache else 'without'} the KV cache: {speed[cache]:7.1f} tokens/s "
              f"(prefill {1000 * run.prefill_seconds:.1f} ms, {1000 * run.step_seconds.mean():.2f} ms per step)")
    print(f"  speed-up {speed[True] / speed[False]:.1f}x; identical greedy tokens: "
          f"{bool(np.array_equal(runs[True].tokens, runs[False].tokens))}; largest |logit difference| "
          f"{np.abs(runs[True].logits - runs[False].logits).max():.1e}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
