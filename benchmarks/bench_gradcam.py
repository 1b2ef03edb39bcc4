"""Grad-CAM on ResNet-18 at 224x224: cnnviz.analysis.attribution vs pytorch-grad-cam, same run.

    python benchmarks/bench_gradcam.py [--repeat 10]

Both explain the same class at the same layer (layer4.1) of the same network
(weights=None: timing does not depend on the weights). Prints the medians and
their ratio. Targets (issue 5): ratio <= 1.0 and <= 100 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import copy
import warnings

from timing import median_ms

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=10)
    a = ap.parse_args()
    import numpy as np
    import torch
    import torchvision
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cnnviz.analysis import attribution

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    target = 7
    ours = median_ms(lambda: attribution.grad_cam(model, x, target=target, layer="layer4.1"), a.repeat)
    ref_model = copy.deepcopy(model)
    cam = GradCAM(model=ref_model, target_layers=[ref_model.layer4[-1]])
    ref = median_ms(lambda: cam(input_tensor=x, targets=[ClassifierOutputTarget(target)]), a.repeat)
    with torch.no_grad():
        fwd = median_ms(lambda: model(x), a.repeat)
    same = np.corrcoef(attribution.grad_cam(model, x, target=target, layer="layer4.1").ravel(),
                       cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0].ravel())[0, 1]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {a.repeat}")
    print(f"forward pass only        {fwd:7.1f} ms")
    print(f"pytorch-grad-cam GradCAM {ref:7.1f} ms")
    print(f"cnnviz grad_cam          {ours:7.1f} ms   ratio {ours / ref:.2f} (target <= 1.0, <= 100 ms)")
    print(f"maps agree: correlation {same:.4f}")


if __name__ == "__main__":
    main()
