import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz.maths import conv, kernels

torch = pytest.importorskip("torch")
F = torch.nn.functional


def reference(image, kernel, stride, padding, dilation, bias):
    x = torch.tensor(image, dtype=torch.float64)[None]
    w = torch.tensor(kernel, dtype=torch.float64)[None]
    b = torch.tensor([bias], dtype=torch.float64)
    return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


@pytest.fixture(scope="module", autouse=True)
def compiled_engine():
    """Both engines are tested; the compiled one must really be there (numba is a requirement)."""
    assert conv.warm_up(wait=True) == "ready"


@settings(max_examples=300, deadline=None)
@given(c=st.integers(1, 4), h=st.integers(1, 24), w=st.integers(1, 24), kh=st.integers(1, 7),
       kw=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3), dilation=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1), bias=st.floats(-5, 5), engine=st.sampled_from(["numpy", "jit"]),
       kind=st.sampled_from(["dense", "sparse", "same slice"]))
def test_matches_torch_conv2d(c, h, w, kh, kw, stride, padding, dilation, seed, bias, engine, kind):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(c, h, w)) * 50
    kernel = rng.normal(size=(c, kh, kw))
    if kind == "sparse":       # zeros are skipped: the curve detector is mostly zeros
        kernel[rng.random(kernel.shape) < 0.6] = 0
    elif kind == "same slice":  # channels are added first
        kernel[:] = kernel[0]
    fits = all(n + 2 * padding >= dilation * (k - 1) + 1 for n, k in ((h, kh), (w, kw)))
    if not fits:
        with pytest.raises(conv.ConvError):
            conv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias,
                            engine=engine)
        return
    ours = conv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=bias,
                           engine=engine)
    ref = reference(image, kernel, stride, padding, dilation, bias)
    assert ours.output.shape == ref.shape
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(ours.output, ref, rtol=1e-5, atol=1e-5 * scale)
    # every step replays the same number, exactly (float64)
    i, j = rng.integers(ref.shape[0]), rng.integers(ref.shape[1])
    step = ours.step(int(i), int(j))
    assert step.total == pytest.approx(ref[i, j], rel=1e-9, abs=1e-9)
    assert step.products.shape == (c, kh, kw)
    assert step.channel_sums.sum() + bias == pytest.approx(step.total)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 3, 1), (2, 1, 1), (3, 0, 2)])
def test_large_maps_split_across_threads_match_torch(stride, padding, dilation):
    # big enough that the compiled engine splits the rows between worker threads
    rng = np.random.default_rng(stride)
    image, kernel = rng.uniform(0, 255, (3, 301, 290)), rng.normal(size=(3, 7, 7))
    ref = reference(image, kernel, stride, padding, dilation, 0.5)
    for engine in ("jit", "numpy"):
        ours = conv.convolve2d(image, kernel, stride=stride, padding=padding, dilation=dilation, bias=0.5,
                               engine=engine).output
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_many_sessions_convolving_at_once_get_their_own_maps():
    # Streamlit runs each learner's script in its own thread: the compiled engine is
    # called from many threads at once (and itself splits work over a thread pool).
    rng = np.random.default_rng(7)
    jobs = [(rng.uniform(0, 255, (1, 200, 230)), rng.normal(size=(1, 7, 7))) for _ in range(12)]
    refs = [reference(img, k, 1, 0, 1, 0.0) for img, k in jobs]
    with ThreadPoolExecutor(6) as pool:
        outs = list(pool.map(lambda job: conv.convolve2d(*job, engine="jit").output, jobs))
    for ours, ref in zip(outs, refs):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_engine_choice():
    assert conv.warm_up() == "ready"
    with pytest.raises(ValueError):
        conv.convolve2d(np.zeros((5, 5)), np.ones((3, 3)), engine="gpu")


def test_without_numba_the_numpy_engine_does_the_work():
    # CNNVIZ_JIT=0 (or numba missing) must leave a working convolution, and importing
    # cnnviz.maths.conv never imports numba by itself (it is compiled in the background on first use).
    code = ("import sys, numpy as np\n"
            "from cnnviz import conv\n"
            "assert 'numba' not in sys.modules\n"
            "r = conv.convolve2d(np.arange(25.).reshape(5, 5), np.ones((3, 3)))\n"
            "assert r.output[0, 0] == 54, r.output\n"
            "print(conv.warm_up(wait=True), 'numba' in sys.modules)\n")
    root = Path(__file__).resolve().parent.parent
    for env, expected in (({"CNNVIZ_JIT": "0"}, "off False"), ({}, "ready True")):
        out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                             env={**os.environ, **env}, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip() == expected


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), k=st.integers(1, 9), s=st.integers(1, 5), p=st.integers(0, 4), d=st.integers(1, 3))
def test_output_size_matches_torch(h, k, s, p, d):
    if h + 2 * p < d * (k - 1) + 1:
        with pytest.raises(conv.ConvError):
            conv.output_size(h, k, s, p, d)
        return
    out = torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)(torch.zeros(1, 1, h, h))
    assert conv.output_size(h, k, s, p, d) == out.shape[-1]


def test_2d_kernel_on_colour_image_is_repeated_through_depth():
    rng = np.random.default_rng(1)
    image, kernel = rng.normal(size=(3, 9, 11)), rng.normal(size=(3, 3))
    ours = conv.convolve2d(image, kernel)
    ref = reference(image, np.repeat(kernel[None], 3, axis=0), 1, 0, 1, 0.0)
    np.testing.assert_allclose(ours.output, ref, rtol=1e-5, atol=1e-4)
    assert ours.kernel.shape == (3, 3, 3)


def test_course_curve_detector_gives_6600_on_the_article_field():
    result = conv.convolve2d(kernels.COURSE_RECEPTIVE_FIELD, kernels.PRESETS["curve_detector"])
    assert result.output.shape == (1, 1)
    assert result.output[0, 0] == 6600
    step = result.step(0, 0)
    # the article: (50x30)+(50x30)+(50x30)+(20x30)+(50x30)
    assert sorted(step.products[step.products != 0].tolist()) == [600, 1500, 1500, 1500, 1500]


def test_course_curve_detector_gives_0_where_there_is_no_curve():
    result = conv.convolve2d(kernels.COURSE_NO_CURVE_FIELD, kernels.PRESETS["curve_detector"])
    assert result.output[0, 0] == 0


def test_article_32x32x3_with_5x5x3_gives_28x28x1_and_784_positions_of_75_products():
    result = conv.convolve2d(np.zeros((3, 32, 32)), np.ones((3, 5, 5)))
    assert result.shape == (28, 28)
    assert result.positions == 784
    assert result.products_per_step == 75
    assert conv.output_size(32, 5) == 28


def test_mouse_sample_carries_the_article_field():
    from cnnviz.maths import images

    gray = images.to_array(images.load_sample("mouse"), "gray")
    top, left = images.SAMPLE_FOCUS
    np.testing.assert_array_equal(gray[top:top + 7, left:left + 7], kernels.COURSE_RECEPTIVE_FIELD)
    result = conv.convolve2d(gray, kernels.PRESETS["curve_detector"])
    assert result.output[top, left] == 6600


def test_step_reports_padding_as_zeros_and_negative_corner():
    image = np.arange(1, 17, dtype=float).reshape(4, 4)
    result = conv.convolve2d(image, np.ones((3, 3)), padding=1)
    step = result.step(0, 0)
    assert (step.top, step.left) == (-1, -1)
    assert step.field[0, 0].tolist() == [0, 0, 0]
    assert step.total == 1 + 2 + 5 + 6
    assert result.receptive_box(0, 0) == (-1, -1, 3, 3)


def test_dilation_spreads_the_receptive_field():
    result = conv.convolve2d(np.zeros((9, 9)), np.ones((3, 3)), dilation=3)
    assert result.receptive_box(0, 0) == (0, 0, 7, 7)
    assert result.shape == (3, 3)


@pytest.mark.parametrize("kwargs,key", [
    ({"stride": 0}, "convolve.error.bad_stride"),
    ({"stride": -1}, "convolve.error.bad_stride"),
    ({"padding": -2}, "convolve.error.bad_padding"),
    ({"dilation": 0}, "convolve.error.bad_dilation"),
    ({"stride": 1.5}, "convolve.error.bad_stride"),
])
def test_bad_settings_are_clear_errors(kwargs, key):
    with pytest.raises(conv.ConvError) as info:
        conv.convolve2d(np.zeros((5, 5)), np.ones((3, 3)), **kwargs)
    assert info.value.key == key
    assert "não é permitid" in info.value.message("pt_BR")


def test_kernel_larger_than_padded_image():
    with pytest.raises(conv.ConvError) as info:
        conv.convolve2d(np.zeros((4, 4)), np.ones((7, 7)))
    assert info.value.key == "convolve.error.kernel_too_big"
    conv.convolve2d(np.zeros((4, 4)), np.ones((7, 7)), padding=2)  # fits with padding


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_refused(bad):
    k = np.ones((3, 3))
    k[1, 1] = bad
    with pytest.raises(conv.ConvError):
        conv.convolve2d(np.zeros((5, 5)), k)
    with pytest.raises(conv.ConvError):
        conv.convolve2d(np.zeros((5, 5)), np.ones((3, 3)), bias=bad)


def test_depth_mismatch_and_bad_position():
    with pytest.raises(conv.ConvError):
        conv.convolve2d(np.zeros((3, 5, 5)), np.ones((2, 3, 3)))
    with pytest.raises(conv.ConvError):
        conv.convolve2d(np.zeros((5, 5)), np.ones((3, 3))).step(3, 0)
    with pytest.raises(conv.ConvError):
        conv.convolve2d(np.zeros((0, 5)), np.ones((3, 3)))


@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 60), k=st.integers(1, 9), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
       seed=st.integers(0, 2**31 - 1))
def test_convolve1d_matches_torch(n, k, s, p, d, seed):
    rng = np.random.default_rng(seed)
    sig, ker = rng.normal(size=n), rng.normal(size=k)
    if n + 2 * p < d * (k - 1) + 1:
        with pytest.raises(conv.ConvError):
            conv.convolve1d(sig, ker, stride=s, padding=p, dilation=d)
        return
    ours = conv.convolve1d(sig, ker, stride=s, padding=p, dilation=d, bias=0.5)
    ref = F.conv1d(torch.tensor(sig)[None, None], torch.tensor(ker)[None, None], torch.tensor([0.5], dtype=torch.float64),
                   stride=s, padding=p, dilation=d)[0, 0].numpy()
    np.testing.assert_allclose(ours.output, ref, atol=1e-9)
    i = int(rng.integers(len(ref)))
    assert ours.step(i).total == pytest.approx(ref[i])


def test_torch_line_builds_an_equivalent_layer():
    line = conv.torch_line(3, 1, 5, 2, 1, 1)
    layer = eval(line, {"torch": torch})
    assert isinstance(layer, torch.nn.Conv2d)
    assert layer(torch.zeros(1, 3, 32, 32)).shape == (1, 1, 15, 15)  # floor((32 + 2 - 5) / 2) + 1


def test_kernel_span_and_the_output_size_written_out():
    """One home for d(k-1)+1 and for the output-size formula in TeX (read by both convolution lessons)."""
    assert [conv.kernel_span(k, d) for k, d in ((1, 1), (3, 1), (3, 2), (5, 3))] == [1, 3, 5, 13]
    n, k, s, p, d = 28, 3, 2, 1, 2
    out = conv.output_size(n, k, s, p, d)
    assert out == torch.nn.Conv1d(1, 1, k, s, p, d)(torch.zeros(1, 1, n)).shape[-1]
    assert conv.output_size_tex("H", n, k, s, p, d) == (
        r"H_{out} = \left\lfloor \frac{H + 2p - d(k-1) - 1}{s} \right\rfloor + 1 = "
        rf"\left\lfloor \frac{{28 + 2\cdot1 - 2\cdot(3-1) - 1}}{{2}} \right\rfloor + 1 = {out}")
    assert conv.output_size_tex("W", n, k, s, p, d, general=False) == (
        rf"W_{{out}} = \left\lfloor \frac{{28 + 2\cdot1 - 2\cdot(3-1) - 1}}{{2}} \right\rfloor + 1 = {out}")
