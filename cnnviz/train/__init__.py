"""Training: the one loop (``fit``), networks to train and transfer learning (``transfer``), the Train
lesson's runs (``experiment``), model cards (``cards``), the VAE (``autoencoder``), the 1D CNN
(``signal_cnn``) and the command that rebuilds the bundled models (``bundled``, run as
``python -m cnnviz.train NAME``)."""
