"""The same Keras training step on more devices: `tf.distribute.MirroredStrategy`, nothing hand-made.

MirroredStrategy keeps a copy of every weight on each device (replica),
splits each batch between them, runs the step on all at once and adds up
the gradients (all-reduce) before the same update is applied everywhere.
The model code does not change: it is built inside `strategy.scope()`.
Keras 3's own `keras.distribution` API works on the JAX backend only; on
TensorFlow, `tf.distribute` is the way. On one CPU, `split_cpu` makes two
logical devices, so two replicas really run (a lent GPU or several are used
the same way, by listing their devices).
"""
import contextlib

import numpy as np

__all__ = ["split_cpu", "one_training_step"]


def split_cpu(replicas=2):
    """Show the CPU to TensorFlow as `replicas` logical devices; returns their names.

    Must run before TensorFlow has run anything in this process (in a
    notebook: first, in a fresh kernel); afterwards TensorFlow refuses, and
    this says so.
    """
    from helpers import tensorflow_log_hidden

    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1:
        raise ValueError(f"replicas must be a positive int; got {replicas!r}")
    with tensorflow_log_hidden():  # importing TensorFlow and listing devices log C++ start-up lines
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:
        have = len(tf.config.list_logical_devices("CPU"))
        if have != replicas:
            raise RuntimeError(
                f"TensorFlow has already started with {have} CPU device(s), so it cannot be split into "
                f"{replicas} now: restart the kernel and run split_cpu({replicas}) before anything else") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def one_training_step(build, x, y, strategy=None, seed=0, learning_rate=0.1):
    """One Keras training step (`fit` on one batch holding all of x) of the model `build()` makes.

    build: returns an uncompiled Keras model; it runs inside
    `strategy.scope()` when a strategy is given, so each replica holds a
    copy. x, y: the batch, split between the replicas. seed: the same
    initial weights every call. TensorFlow's C++ log lines are hidden during
    the step (Python errors are raised as usual). Returns (loss, weights
    after the step as NumPy arrays).
    """
    import keras

    keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build()
        model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse")
    from helpers import tensorflow_log_hidden

    with tensorflow_log_hidden():  # tf.data's C++ note on the generator it feeds the replicas from
        history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return float(history.history["loss"][0]), [np.array(w) for w in model.weights]
