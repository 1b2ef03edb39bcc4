"""The methods and baselines of issue 20 against independent implementations: the CAMs of
pytorch-grad-cam against small ones written from their papers in torch, SmoothGrad and Input x
Gradient against plain autograd, the edge map against scipy, DeepLift's refusal of ResNet, and the
trust lab's scores (cnnviz.analysis.trust)."""

import copy
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")
pytest.importorskip("pytorch_grad_cam")
import torch.nn.functional as F  # noqa: E402
from test_attribution import digit_x, digits, hook_count  # noqa: E402,F401 - the digits network and its sample 3

from cnnviz.analysis import attribution as A  # noqa: E402
from cnnviz.analysis import trust  # noqa: E402
from cnnviz.analysis.private_copies import private_copy  # noqa: E402
from cnnviz.base.errors import CnnvizError  # noqa: E402

warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")


def layer_and_grad(model, layer, x, target):
    """The layer's activations A (1, K, h, w) and d(score of target)/dA, by a hook on a copy."""
    twin = copy.deepcopy(model).eval()
    for m in twin.modules():
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
    kept = {}
    handle = dict(twin.named_modules())[layer].register_forward_hook(lambda m, i, o: kept.__setitem__("a", o))
    inp = x.clone().requires_grad_(True)
    score = twin(inp)[0, target]
    handle.remove()
    (grad,) = torch.autograd.grad(score, kept["a"])
    return twin, kept["a"].detach(), grad.detach()


def to_input(cam, size):
    """A (h, w) CAM upsampled to the input (bilinear), as a flat numpy vector."""
    return F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0].numpy().ravel()


def corr(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def paper_gradcam_pp(model, layer, x, target):
    """Chattopadhay et al. (2018), eq. 19 (exponential of the score, so only first-order gradients):
    alpha = g^2 / (2 g^2 + sum_ab(A) g^3) (0 where the denominator is 0), w_k = sum_ij alpha relu(g),
    map = relu(sum_k w_k A_k)."""
    _, a, g = layer_and_grad(model, layer, x, target)
    den = 2 * g ** 2 + a.sum(dim=(2, 3), keepdim=True) * g ** 3
    alpha = torch.where(den != 0, g ** 2 / torch.where(den != 0, den, torch.ones_like(den)), torch.zeros_like(den))
    w = (alpha * g.clamp(min=0)).sum(dim=(2, 3), keepdim=True)
    return (w * a).sum(dim=1)[0].clamp(min=0)


def paper_layercam(model, layer, x, target):
    """Jiang et al. (2021), eq. 5-6: each activation weighted by its own positive gradient, summed, relu."""
    _, a, g = layer_and_grad(model, layer, x, target)
    return (g.clamp(min=0) * a).sum(dim=1)[0].clamp(min=0)


def paper_scorecam(model, layer, x, target):
    """Wang et al. (2020), Algorithm 1: each activation map upsampled to the input and scaled to
    [0, 1] masks the picture; the class's score of each masked picture, softmaxed over the maps,
    weighs the maps; relu of the sum. (The baseline's score in the paper's CIC is the same for
    every map, so the softmax cancels it.)"""
    twin, a, _ = layer_and_grad(model, layer, x, target)
    # upsampled with the corners aligned, as the library's UpsamplingBilinear2d does (the paper says "upsample")
    masks = F.interpolate(a.transpose(0, 1), size=x.shape[-2:], mode="bilinear", align_corners=True)  # (K, 1, H, W)
    lo = masks.amin(dim=(2, 3), keepdim=True)
    hi = masks.amax(dim=(2, 3), keepdim=True)
    masks = (masks - lo) / (hi - lo + 1e-8)
    with torch.no_grad():
        scores = twin(x * masks)[:, target]
    return (torch.softmax(scores, 0)[:, None, None] * a[0]).sum(dim=0).clamp(min=0)


@pytest.mark.parametrize("target", [3, 8])
@pytest.mark.parametrize("method, paper", [("gradcam_pp", paper_gradcam_pp), ("layercam", paper_layercam),
                                           ("scorecam", paper_scorecam)])
def test_library_cams_match_the_papers(digits, digit_x, method, paper, target):
    exp = A.explain(method, digits.model, digit_x, target=target)
    ref = paper(digits.model, "relu2", digit_x, target)
    assert exp.layer == "relu2" and not exp.flat
    assert corr(exp.map, to_input(ref, (28, 28))) >= 0.99, method


def test_the_cams_at_another_layer_and_on_a_colour_network():
    """A small random RGB network (3 channels, 3 convs) at its middle layer: the same agreement."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 12, 3, padding=1),
                              torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(12, 16, 3, padding=1),
                              torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(16, 5)).eval()
    with torch.no_grad():        # scores of a trained size: Grad-CAM++'s 1e-6 in its denominator is then negligible
        net[-1].weight.mul_(100)
    x = torch.randn(1, 3, 20, 20)
    for method, paper in (("gradcam_pp", paper_gradcam_pp), ("layercam", paper_layercam), ("scorecam", paper_scorecam)):
        exp = A.explain(method, net, x, target=2, layer="3")
        ref = paper(net, "3", x, 2)
        assert corr(exp.map, to_input(ref, (20, 20))) >= 0.99, method
    assert hook_count(net) == 0 and not any(p.requires_grad is False for p in net.parameters())


def test_scorecam_reports_each_pass_and_stops_when_told(digits, digit_x):
    channels = dict(digits.model.named_modules())["conv2"].out_channels
    done = []
    A.explain("scorecam", digits.model, digit_x, progress=lambda d, t: done.append((d, t)))
    total = 1 + -(-channels // A.SCORECAM_BATCH)                 # one pass, then one per batch of masks
    assert done == [(i, total) for i in range(1, total + 1)]

    class Stop(Exception):
        pass

    def stop(d, t):
        if d == 2:
            raise Stop                                            # the line's Cancel raises from progress
    with pytest.raises(Stop):
        A.explain("scorecam", digits.model, digit_x, progress=stop)
    twin, _ = private_copy(digits.model)
    assert hook_count(twin) == 0 and hook_count(digits.model) == 0   # its hooks went with it


def test_smoothgrad_is_the_mean_absolute_gradient_over_seeded_noise(digits, digit_x):
    n = 16
    exp = A.explain("smoothgrad", digits.model, digit_x, n_samples=n, target=3)
    twin, _ = private_copy(digits.model)
    stdev = A.SG_NOISE * float(digit_x.max() - digit_x.min())
    state = torch.random.get_rng_state()
    torch.manual_seed(A.SEED)
    grads = []
    for _ in range(n // A.SG_BATCH):                              # the noise, drawn a batch at a time
        noisy = (digit_x.repeat(A.SG_BATCH, 1, 1, 1)
                 + torch.normal(0, torch.full((A.SG_BATCH, *digit_x.shape[1:]), stdev))).requires_grad_(True)
        (g,) = torch.autograd.grad(twin(noisy)[:, 3].sum(), noisy)
        grads.append(g.abs())
    torch.random.set_rng_state(state)
    ref = torch.cat(grads).mean(dim=0)[0].numpy()
    np.testing.assert_allclose(exp.raw, ref, rtol=1e-4, atol=1e-7)
    # the global generator is left as it was: the noise does not shift anybody else's draws
    before = torch.random.get_rng_state()
    A.explain("smoothgrad", digits.model, digit_x, n_samples=4)
    assert torch.equal(before, torch.random.get_rng_state())


def test_input_x_gradient_is_the_input_times_autograds_gradient(digits, digit_x):
    exp = A.explain("input_x_gradient", digits.model, digit_x, target=8)
    inp = digit_x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(copy.deepcopy(digits.model)(inp)[0, 8], inp)
    np.testing.assert_allclose(exp.raw, (digit_x * g)[0, 0].abs().numpy(), rtol=1e-5, atol=1e-7)


def test_deeplift_adds_up_to_the_score_change_and_refuses_resnet(digits, digit_x):
    twin, _ = private_copy(digits.model)
    x = digit_x.clone().requires_grad_(True)
    attr = A.REGISTRY["deeplift"].attribute(A.Call(twin, x, 3, None, None, {}))
    with torch.no_grad():        # DeepLift's summation to delta: the parts add up to f(x) - f(black)
        delta = float(twin(digit_x)[0, 3] - twin(torch.zeros_like(digit_x))[0, 3])
    assert float(attr.sum()) == pytest.approx(delta, rel=1e-3)
    torchvision = pytest.importorskip("torchvision")
    resnet = torchvision.models.resnet18(weights=None).eval()
    small = torch.randn(1, 3, 32, 32)
    assert A.reused_relu(resnet, small) == "layer1.0.relu"      # a block calls its relu twice
    assert A.reused_relu(digits.model, digit_x) is None
    with pytest.raises(CnnvizError) as err:
        A.explain("deeplift", resnet, small, target=1, layer="layer4.1")
    assert err.value.key == "attribution.error.deeplift_reused_relu" and "layer1.0.relu" in err.value.message("pt_BR")
    assert hook_count(resnet) == 0 and hook_count(private_copy(resnet)[0]) == 0


def test_gradient_shap_is_the_same_on_every_run(digits, digit_x):
    a = A.explain("gradient_shap", digits.model, digit_x, n_samples=8)
    b = A.explain("gradient_shap", digits.model, digit_x, n_samples=8)
    np.testing.assert_array_equal(a.raw, b.raw)
    before = np.random.get_state()[1].copy()             # numpy's global generator left as it was
    A.explain("gradient_shap", digits.model, digit_x, n_samples=4)
    np.testing.assert_array_equal(before, np.random.get_state()[1])


def test_the_edge_map_is_scipys_sobel_magnitude():
    ndimage = pytest.importorskip("scipy.ndimage")
    x = torch.randn(1, 3, 17, 23, generator=torch.Generator().manual_seed(4))
    ours = A.sobel_map(x)[0].numpy()
    for c in range(3):
        img = x[0, c].double().numpy()
        ref = np.hypot(ndimage.sobel(img, axis=1), ndimage.sobel(img, axis=0))    # d/dx, d/dy; "reflect" border
        np.testing.assert_allclose(ours[c], ref, rtol=1e-5, atol=1e-5)
    # the registry's map: the largest magnitude over the channels, scaled to [0, 1]
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LazyLinear(4))
    model(x)
    exp = A.explain("sobel", model.eval(), x, target=0, layer="1")
    mag = ours.max(axis=0)
    np.testing.assert_allclose(exp.map, (mag - mag.min()) / (mag.max() - mag.min()), atol=1e-6)


def test_the_random_map_is_smooth_fixed_and_blind_to_the_picture(digits, digit_x):
    one = A.explain("random", digits.model, digit_x).map
    other = A.explain("random", digits.model, torch.randn_like(digit_x)).map
    np.testing.assert_array_equal(one, other)                      # the same for every picture
    grid = torch.rand((1, 1, 7, 7), generator=torch.Generator().manual_seed(0))
    ref = F.interpolate(grid, size=(28, 28), mode="bilinear", align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(one, (ref - ref.min()) / (ref.max() - ref.min()), atol=1e-6)
    assert np.abs(np.diff(one, axis=1)).max() < 0.3                # smooth: blobs (7 x 7 over 28 x 28), not speckles
    assert np.abs(np.diff(np.random.default_rng(0).random((28, 28)), axis=1)).max() > 0.9   # as pixel noise would be


def test_trust_scores_on_the_digits_network(digits, digit_x):
    done = []
    report = trust.assess(digits.model, digit_x, 3, ["gradcam", "saliency"], progress=lambda d, t: done.append((d, t)))
    assert list(report.scores) == ["gradcam", "saliency", "random", "sobel"]   # the baselines are added
    assert done[-1][0] == done[-1][1] == len(report.steps) + 4
    for m, s in report.scores.items():
        assert s.sanity_rho == report.steps[-1].rank_corr[m]
        assert s.sane == (s.sanity_rho < trust.SANITY_MAX)
        assert s.deletion_auc == report.curves[m][0].auc and s.insertion_auc == report.curves[m][1].auc
    rnd, edges, cam = report.scores["random"], report.scores["sobel"], report.scores["gradcam"]
    # the baselines ignore the weights: unchanged by the randomization, they fail the sanity check
    assert rnd.sanity_rho == pytest.approx(1.0) and edges.sanity_rho == pytest.approx(1.0)
    assert not rnd.sane and not edges.sane and not rnd.faithful          # chance does not beat itself
    assert edges.edge_rho == pytest.approx(1.0)
    # measured on this 3: saliency passes both (rho 0.18; deletion 0.50 < the random map's 0.59, insertion
    # 0.98 > 0.78); Grad-CAM's rho is 0.38 and its insertion 0.96; the edge map is faithful (0.33, 0.96)
    # yet fails the sanity check: it explains the picture, not the network
    sal = report.scores["saliency"]
    assert sal.sane and sal.faithful and sal.trusted
    assert cam.sane and cam.insertion_auc > rnd.insertion_auc + 0.1
    assert edges.faithful and not edges.trusted
