"""The private copy of a shared network that the attribution methods work on.

Models are shared by every learner, and captum attaches hooks (forward hooks on the explained
layer, backward hooks on every ReLU for guided backprop) that would catch other learners' forward
passes. So captum never touches the shared model: each model gets one private copy for
explanations (made once, with in-place ReLUs replaced, since guided backprop and Grad-CAM need
each layer's output intact), and the explanations of one model take turns on it under its lock.
``cnnviz.analysis.attribution`` (the methods), ``faithfulness`` (the deletion/insertion curves)
and ``sanity`` (the cascading randomization) all go through ``private_copy``.
"""

from __future__ import annotations

import copy
import threading
import weakref

from torch import nn

_private: "weakref.WeakKeyDictionary[nn.Module, tuple[nn.Module, threading.Lock]]" = weakref.WeakKeyDictionary()
_private_lock = threading.Lock()


def private_copy(model: nn.Module) -> tuple[nn.Module, threading.Lock]:
    """(copy of ``model`` for explanations, its lock): made once per shared model.

    The copy has modules of its own (its hooks, its ReLUs) but not weights of its own: each of its
    parameters is a new ``Parameter`` that needs no gradient over the *same* memory as the
    model's, and its buffers are the model's (eval mode never writes them). A second copy of the
    weights would cost a server 45 MB for ResNet-18, 528 MB for VGG-16; and weights changed in
    place (the sanity check's randomization) are what the copy computes with."""
    with _private_lock:
        if model not in _private:
            shared = {id(p): nn.Parameter(p.detach(), requires_grad=False) for p in model.parameters()}
            shared.update({id(b): b for b in model.buffers()})
            twin = copy.deepcopy(model, shared).eval()
            for m in twin.modules():
                if isinstance(m, (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.Hardsigmoid, nn.SiLU)) and \
                        getattr(m, "inplace", False):
                    m.inplace = False
            for p in twin.parameters():
                p.requires_grad_(False)
            _private[model] = (twin, threading.Lock())
        return _private[model]


def forget(model: nn.Module) -> None:
    """Drop ``model``'s copy: the next ``private_copy`` makes a new one from the model as it is then
    (the sanity check, after it changed a layer's weights, and once it is done with its victim)."""
    with _private_lock:
        _private.pop(model, None)
