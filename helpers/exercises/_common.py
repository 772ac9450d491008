"""What several notebooks' self-checks share: one random generator, calling an answer, the verdict."""
import numpy as np

_RNG = np.random.default_rng(2017)


def _reference_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _report(problem, success):
    if problem is None:
        print(f"Correct: {success}")
        return True
    print(f"Not yet: {problem}")
    return False


def _call(fn, *args):
    """(result, problem): the answer's output, or why calling it failed."""
    try:
        return np.asarray(fn(*args)), None
    except NotImplementedError:
        return None, "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:  # a student's bug: report it instead of a stack trace
        return None, f"calling it raised {type(err).__name__}: {err}"


def _output_and_weights(fn, *args):
    """(output, weights, problem) from an answer that must return a pair."""
    try:
        result = fn(*args)
    except NotImplementedError:
        return None, None, "the function is not implemented yet (it raises NotImplementedError)."
    except Exception as err:  # a student's bug: report it instead of a stack trace
        return None, None, f"calling it raised {type(err).__name__}: {err}"
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None, None, f"it must return (output, weights), a pair; got a {type(result).__name__}."
    output, weights = (np.asarray(a) for a in result)
    return output, weights, None


def _count(fn, *args):
    """(count, problem): the answer as a Python int, or why it is not one."""
    got, problem = _call(fn, *args)
    if problem:
        return None, problem
    if got.shape != () or not np.issubdtype(got.dtype, np.number) or got != np.round(got):
        return None, f"the answer must be one whole number; got {got!r}."
    return int(got), None


def _hint(got, wrong, otherwise):
    """The explanation of the first typical wrong count equal to `got`, else `otherwise`."""
    return next((why for count, why in wrong if got == count), otherwise)
