"""The test command runs everything in quick mode (small data, few steps).

Set here, before any notebook kernel starts, so nbval's kernels inherit it.
"""
import os

os.environ["HOSA_MODE"] = "quick"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
