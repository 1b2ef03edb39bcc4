"""What a trained network does with a picture: activations, filters and top images (``inspect``),
receptive fields (``receptive``), attribution maps (``attribution``: the methods and their
registry) and their checks (``faithfulness``: deletion and insertion curves; ``sanity``: the
cascading randomization), made on the private copy of a shared network (``private_copies``), and
how sure a prediction is (``confidence``)."""
