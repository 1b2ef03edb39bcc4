"""cnnviz: see how a convolutional neural network sees.

The package is importable without torch: modules that need torch
(``models``, ``inspect``, ``attribution``, ``train``) import it themselves,
so lessons about images and kernels open instantly.
"""

__version__ = "0.1.0"
