"""The Backpropagation lesson in a real browser at 1280 x 800: moving the learning rate's slider redraws the
updated kernel with the numbers torch.autograd and one SGD step give."""

import torch
import torch.nn.functional as F
from browser_helpers import keyed, no_exception, shoot
from playwright.sync_api import expect

from cnnviz import course
from cnnviz.data import datasets
from cnnviz.i18n import number
from cnnviz.train import backprop


def kernel_after(lr: float, lang: str) -> list[str]:
    """The tiny net's kernel (seed 0, first test digit) after one SGD step, as its 9 cells write it."""
    x, y = datasets.first_test_images("mnist", 1)
    net = backprop.tiny_net(0)
    kernel = torch.tensor(net.kernel, dtype=torch.float64)[None, None].requires_grad_()
    logits = torch.tensor(net.fc_w) @ F.max_pool2d(F.relu(F.conv2d(x.double(), kernel)), 2).flatten()
    F.cross_entropy(logits[None], y[:1]).backward()
    opt = torch.optim.SGD([kernel], lr=lr)
    opt.step()
    return [number(v, lang, 3, trim=True) for v in kernel.detach().flatten().tolist()]


def test_changing_the_learning_rate_redraws_the_new_kernel(new_page):
    page = new_page(course.url("backprop"), locale="pt-BR")
    cells = keyed(page, "bp.new_kernel").locator("td")
    expect(cells).to_have_text(kernel_after(0.1, "pt_BR"))            # the default rate, 0,1
    thumb = keyed(page, "bp.lr").get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowRight")                                          # the next rate: 0,2
    expect(keyed(page, "bp.lr")).to_contain_text("0,2")
    expect(cells).to_have_text(kernel_after(0.2, "pt_BR"), timeout=60_000)
    no_exception(page)
    shoot(page, "backprop_new_kernel_pt-BR")
