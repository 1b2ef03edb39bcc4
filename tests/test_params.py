import pytest

from cnnviz import params


def test_course_256_squared_grey_image_with_equally_wide_layer():
    n = params.mlp_weights((256, 256), [256 * 256])
    assert n == 256 ** 4 == 4_294_967_296
    value, unit = params.human_bytes(params.memory_bytes(n, "float32"))
    assert unit == "GB" and round(value) == 17          # "17 GB de memória"
    assert params.memory_bytes(n, "float16") == 2 * n


def test_course_rgb_inputs_and_three_to_four_neurons():
    assert params.inputs((256, 256, 3)) == 196_608
    assert params.mlp_weights(3, [4]) == 12
    assert params.mlp_weights(3, [4], bias=True) == 16


def test_conv_weights_do_not_depend_on_the_image():
    assert params.conv_weights(3, 1, 5) == 75                 # the article's 5x5x3 filter
    assert params.conv_weights(1, 32, 3, bias=True) == 320    # digits conv1
    rows_small = params.cnn_weights((32, 32, 3), [(16, 3), (32, 3)])
    rows_big = params.cnn_weights((256, 256, 3), [(16, 3), (32, 3)])
    conv = lambda rows: [r.weights for r in rows if r.name.startswith("conv")]  # noqa: E731
    assert conv(rows_small) == conv(rows_big) == [432, 4608]


def test_cnn_weights_match_torch_for_the_digits_net():
    torch = pytest.importorskip("torch")
    from cnnviz.models import DigitsCNN

    rows = params.cnn_weights((28, 28, 1), [(32, 3), (64, 3)], dense=[128], outputs=10, bias=True)
    assert rows[-1].shape == (10,)
    assert sum(r.weights for r in rows) == sum(p.numel() for p in DigitsCNN().parameters())
    counts = params.model_counts(DigitsCNN())
    assert [c[0] for c in counts] == ["conv1", "conv2", "fc1", "fc2"]
    assert counts[0][2] == 320 and counts[2][2] == 64 * 7 * 7 * 128 + 128
    assert torch  # used


def test_human_bytes():
    assert params.human_bytes(999) == (999.0, "B")
    assert params.human_bytes(1.5e6) == (1.5, "MB")
