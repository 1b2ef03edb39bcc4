"""What a trained network does with a picture: activations, filters and top images (``inspect``),
receptive fields (``receptive``), attribution maps and their checks (``attribution``), and how
sure a prediction is (``confidence``)."""
