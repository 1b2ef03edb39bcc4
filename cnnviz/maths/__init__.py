"""The maths of one operation, each tested against torch and the course's numbers: convolution in 2D
(``conv``; its whole map computed by ``conv_engine``) and 1D (``signals``), kernels (``kernels``), ReLU, pooling, softmax
and batch norm (``layers``), counting weights (``params``) and pictures as numbers (``images``).
No torch at import time, no network, no dataset."""
