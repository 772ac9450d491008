"""Hands-On Self-Attention: what the notebooks teach once and reuse later.

One module per idea: `attention` (NumPy scaled dot-product attention),
`plots` (heatmaps), `frames` (figures that redraw fast), `widgets` (slider
explorers), `exercises` (self-checks),
`masks` (padding and causal masks), `layers` (attention as Keras layers),
`training` (schedules), `classifier` (IMDB), `translation` (encoder-decoder),
`tokens` (byte-level BPE), `generation` (a small GPT: training, perplexity,
samplers, a KV cache), `generation_widgets` (its pictures and explorers),
`pretrained` (all-MiniLM-L6-v2's weights in our own encoder), `head_patterns`
(what each head attends to, measured), `pretrained_widgets` (model view, search),
`blocked_attention` (the online softmax), `linear_attention`, `distributed`
(one Keras step on several devices),
`mode` (quick vs full sizes), `data` (real data sets, offline first).
"""
import contextlib
import os
import sys

from helpers.mode import MODE, QUICK, pick

__version__ = "0.1.0"
__all__ = ["MODE", "QUICK", "pick", "start_keras_quietly", "tensorflow_log_hidden"]


def start_keras_quietly():
    """Import Keras and start its backend with TensorFlow's C++ start-up log hidden.

    TensorFlow writes lines such as "oneDNN custom operations are on" and "Could
    not find cuda drivers" straight to file descriptor 2 while it loads, before
    TF_CPP_MIN_LOG_LEVEL takes effect, so Jupyter would show them under a
    notebook's first cell. File descriptor 2 goes to /dev/null only while Keras
    loads; an import error is still raised, and everything after shows as usual.
    TensorFlow's later INFO lines (e.g. "Memory patch applied" when a tf.data
    generator starts) are hidden too, unless TF_CPP_MIN_LOG_LEVEL says otherwise;
    its warnings and errors still show, except the one-time note that oneDNN
    falls back to Eigen for boolean tensors. Call it before `import keras`.
    """
    with tensorflow_log_hidden():
        import keras

        keras.ops.zeros(())  # the first op starts the device, which logs too
        # On CPUs without AVX-512, TensorFlow's oneDNN logs once per process, at
        # level E, that it falls back to Eigen for boolean tensors (first met in a
        # masked LSTM). Nothing is wrong; meet that fallback here, unseen.
        keras.ops.transpose(keras.ops.ones((1, 1), dtype="bool"))


@contextlib.contextmanager
def tensorflow_log_hidden():
    """File descriptor 2 to /dev/null while the block runs (TensorFlow's C++ start-up lines), then back."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
