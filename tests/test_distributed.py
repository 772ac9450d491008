"""Two replicas on one CPU give the one-device training step, to rounding; a late split says what to do.

TensorFlow fixes its devices when it first runs, so the check runs in a
fresh Python process.
"""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import numpy as np
    from helpers.distributed import one_training_step, split_cpu
    assert split_cpu(2) == ["/device:CPU:0", "/device:CPU:1"]
    import keras
    import tensorflow as tf

    def build():
        return keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 6)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    loss_1, weights_1 = one_training_step(build, x, y)
    loss_2, weights_2 = one_training_step(build, x, y, strategy)
    assert abs(loss_1 - loss_2) < 1e-5, (loss_1, loss_2)
    assert max(np.abs(a - b).max() for a, b in zip(weights_1, weights_2)) < 1e-5
    # What one replica sees alone (half the batch) is another step: the gradients were all-reduced.
    _, half = one_training_step(build, x[:4], y[:4])
    assert max(np.abs(a - b).max() for a, b in zip(half, weights_2)) > 1e-3
    try:
        split_cpu(3)
    except RuntimeError as err:
        assert "restart the kernel" in str(err), err
    else:
        raise AssertionError("split_cpu after start-up must refuse")
    print("ok")
""")


def test_two_cpu_replicas_give_the_one_device_step():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
