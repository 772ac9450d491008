"""Quick mode (tests) and full mode (class): the one switch for sizes.

The test command sets the environment variable ``HOSA_MODE=quick``; anything
else, or nothing, means full mode, the default for a student. Notebooks read
their sizes through `pick`, so the same cells run in both modes and only the
sizes change.
"""
import os

MODE = "quick" if os.environ.get("HOSA_MODE", "full").strip().lower() == "quick" else "full"
QUICK = MODE == "quick"


def pick(full, quick):
    """`full` in full mode, `quick` in quick mode."""
    return quick if QUICK else full
