import pytest

from cnnviz.maths import params


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
    # row by row, the formula is the real layer: its weights and its output (H x W x C) in a forward pass
    from cnnviz.analysis import inspect as insp

    net = DigitsCNN().eval()
    acts = insp.activations(net, torch.zeros(1, 1, 28, 28))
    for r in rows:
        assert r.weights == sum(p.numel() for p in net.get_submodule(r.name).parameters()), r.name
        out = acts[r.name][0]
        assert r.shape == ((*out.shape[1:], out.shape[0]) if out.ndim == 3 else tuple(out.shape)), r.name


def test_human_bytes():
    assert params.human_bytes(999) == (999.0, "B")
    assert params.human_bytes(1.5e6) == (1.5, "MB")


def _lesson_counts(h, w, c, hidden, convs, k=3):
    """The two totals the /why-convolution lesson compares (10 outputs each)."""
    mlp = params.mlp_weights((h, w, c), hidden, outputs=10)
    cnn = sum(r.weights for r in params.cnn_weights((h, w, c), [(n, k) for n in convs], outputs=10))
    return mlp, cnn


def test_compare_small_image_many_filters_the_cnn_needs_more():
    mlp, cnn = _lesson_counts(28, 28, 1, [28 * 28], [16, 32, 64, 128, 256, 512])
    assert cnn > mlp
    cmp = params.compare(mlp, cnn)
    assert cmp.more == "cnn"
    assert cmp.factor == pytest.approx(cnn / mlp) and cmp.factor > 2.5
    assert round(cmp.factor, cmp.digits) == 2.5          # shown "2.5", never "× 0"


def test_compare_course_image_the_mlp_needs_more():
    mlp, cnn = _lesson_counts(256, 256, 1, [256 * 256], [16, 32, 64])
    assert mlp > 4_294_967_296                            # the course's 256^4, plus the 10 outputs
    cmp = params.compare(mlp, cnn)
    assert cmp.more == "mlp" and cmp.factor == pytest.approx(mlp / cnn) and cmp.digits == 0


def test_compare_close_counts_never_read_one_times():
    cmp = params.compare(1000, 1004)
    assert cmp.more == "cnn" and round(cmp.factor, cmp.digits) > 1   # 1.004, not "1"
    cmp = params.compare(1030, 1000)
    assert cmp.more == "mlp" and round(cmp.factor, cmp.digits) == 1.03
    assert params.compare(12, 12).more == "equal"


def test_count_weights_all_trainable_frozen_and_a_layers_own():
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 5), torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 10)))
    assert params.count(net) == (5 * 5 * 3 * 8 + 8) + (8 * 10 + 10) == 698
    net[0].requires_grad_(False)                        # transfer learning: the features frozen
    assert params.count(net, trainable=True) == 90 and params.count(net, trainable=False) == 608
    assert params.count(net[1], recurse=False) == 0 and params.count(net[1]) == 90
    assert params.model_counts(net) == [("0", "Conv2d", 608), ("1.1", "Linear", 90)]


def test_parse_int_list_reads_the_calculators_layers_and_names_a_bad_item():
    from cnnviz.base.errors import CnnvizError

    assert params.parse_int_list(" 16, 32;64 ", low=1, high=4096) == [16, 32, 64]
    for text, key in (("", "params.error.empty_list"), ("5, x", "params.error.not_int"), ("0", "params.error.out_of_range")):
        with pytest.raises(CnnvizError) as err:
            params.parse_int_list(text, low=1, high=10)
        assert err.value.key == key


def test_mlp_layers_are_the_layers_mlp_weights_sums():
    # 4 x 4 x 3 = 48 inputs, hidden 10 then 5, 3 outputs: 48*10, 10*5, 5*3 (+ biases 10, 5, 3)
    layers = params.mlp_layers((4, 4, 3), [10, 5], outputs=3)
    assert [(r.name, r.shape, r.weights) for r in layers] == [("fc1", (10,), 480), ("fc2", (5,), 50), ("fc3", (3,), 15)]
    assert [r.weights for r in params.mlp_layers((4, 4, 3), [10, 5], outputs=3, bias=True)] == [490, 55, 18]
    assert sum(r.weights for r in layers) == params.mlp_weights((4, 4, 3), [10, 5], outputs=3) == 545
    assert [r.name for r in params.mlp_layers(3, [4])] == ["fc1"]                 # no output layer asked
