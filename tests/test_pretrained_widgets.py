"""The model view and the semantic search explorer show what they say."""
import numpy as np
import pytest

from helpers.pretrained import embed, load_minilm
from helpers.pretrained_widgets import model_view, search_explorer


def attention(n, seed):
    scores = np.random.default_rng(seed).normal(size=(2, 3, n, n))
    return np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)


def test_model_view_shows_the_chosen_sentences_heads_and_a_save_button(tmp_path):
    weights = [attention(5, 0), attention(9, 1)]
    panel = model_view(weights, [list("abcde"), list("abcdefghi")], stills=[{"sentence": 0}],
                       save_as="grid", save_dir=tmp_path)
    assert panel.still.startswith(b"\x89PNG")
    slider = panel.children[0]
    slider.value = 1
    assert panel.result is weights[1]
    button = next(child for child in panel.children if hasattr(child, "children")).children[0]
    button.click()
    assert (tmp_path / "grid_sentence1.png").read_bytes().startswith(b"\x89PNG")


def test_model_view_rejects_attention_that_does_not_fit_the_tokens():
    with pytest.raises(ValueError, match=r"attention\[1\] must be \(layers, heads, n, n\) = \(2, 3, 4, 4\)"):
        model_view([attention(5, 0), attention(5, 1)], [list("abcde"), list("abcd")], stills=[{}])


def test_search_finds_the_reviews_nearest_the_query_by_cosine():
    model, tokenizer = load_minilm()
    texts = ["A hilarious comedy, I laughed all the way through.", "The worst acting I have ever seen.",
             "A slow, beautiful documentary about whales.", "Dull and boring, I fell asleep.",
             "Funny, warm and silly: great for kids.", "The camera work is stunning."]
    panel = search_explorer(model, tokenizer, texts, embed(model, tokenizer, texts), k=3,
                            stills=[{"query": "a funny film"}])
    panel.children[0].value = "boring and badly acted"
    nearest, similarity = panel.result
    want = np.argsort(-(embed(model, tokenizer, texts) @ embed(model, tokenizer, ["boring and badly acted"])[0]))[:3]
    assert list(nearest) == list(want) and set(nearest[:2]) == {1, 3}
    assert np.all(np.diff(similarity) <= 0)
    with pytest.raises(ValueError, match=r"embeddings must be \(N, d\) for the N = 6 texts"):
        search_explorer(model, tokenizer, texts, np.zeros((5, 384)), stills=[{}])
