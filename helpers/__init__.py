"""Hands-On Self-Attention: what the notebooks teach once and reuse later.

One module per idea: `attention` (NumPy scaled dot-product attention),
`plots` (heatmaps), `widgets` (slider explorers), `exercises` (self-checks),
`masks` (padding and causal masks), `layers` (attention as Keras layers),
`mode` (quick vs full sizes), `data` (real data sets, offline first).
"""
from helpers.mode import MODE, QUICK, pick

__version__ = "0.1.0"
__all__ = ["MODE", "QUICK", "pick"]
