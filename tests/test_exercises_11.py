"""The self-checks of notebook 11 accept right answers and explain typical wrong ones."""
import numpy as np

from helpers.exercises import check_11_mean_pool, check_11_previous_token


def pool(tokens, mask, use_mask=True, normalise=True):
    mean = tokens[mask].mean(0) if use_mask else tokens.mean(0)
    return mean / np.linalg.norm(mean) if normalise else mean


def test_mean_pool_check(capsys):
    assert check_11_mean_pool(pool)
    assert not check_11_mean_pool(lambda t, m: pool(t, m, use_mask=False))
    assert "padding tokens were averaged in" in capsys.readouterr().out
    assert not check_11_mean_pool(lambda t, m: pool(t, m, normalise=False))
    assert "scale it to length 1" in capsys.readouterr().out


def test_previous_token_check(capsys):
    assert check_11_previous_token(lambda a: np.diagonal(a, offset=-1).mean())
    assert not check_11_previous_token(lambda a: np.diagonal(a, offset=1).mean())
    assert "*next* token" in capsys.readouterr().out
    assert not check_11_previous_token(lambda a: np.diagonal(a, offset=-1).sum() / len(a))
    assert "query 0 has no previous token" in capsys.readouterr().out


def test_unfinished_answers_say_so(capsys):
    def unfinished(*_):
        raise NotImplementedError
    assert not check_11_mean_pool(unfinished) and not check_11_previous_token(unfinished)
    assert capsys.readouterr().out.count("not implemented yet") == 2
