"""The bundled architectures: small, plain CNNs with one named module per step.

Each layer is an attribute named as the course names it (conv1, relu1, pool1,
..., fc1), registered in forward order, so ``model.named_children()`` lists the
layers in the order the image flows through them, and forward hooks on any of
them show a learner "what layer N sees". Every layer has at most 64 channels,
so a page can show every channel of every layer.

ReLUs are not in-place: attribution methods (Grad-CAM, guided backprop) and
activation capture need each layer's output to survive the next layer.
"""

from __future__ import annotations

from torch import nn


class DigitsCNN(nn.Module):
    """MNIST digits: two conv -> ReLU -> pool blocks, then two fully connected layers.

    1x28x28 -> conv1 32x28x28 -> pool1 32x14x14 -> conv2 64x14x14 -> pool2 64x7x7
    -> fc1 128 -> fc2 10 (class scores). The drawing of the course, almost literally.
    """

    in_channels = 1

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dropout1 = nn.Dropout(0.25)  # regularization; inactive in eval mode
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.relu3 = nn.ReLU()
        self.dropout2 = nn.Dropout(0.4)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.dropout1(self.flatten(x))))
        return self.fc2(self.dropout2(x))


class FashionCNN(nn.Module):
    """Fashion-MNIST: three conv -> batch norm -> ReLU -> pool blocks, dropout, two FC layers.

    Clothes are harder than digits (a shirt vs a T-shirt vs a pullover), so this
    network is one block deeper than DigitsCNN and uses batch norm to train fast.
    1x28x28 -> 32x14x14 -> 64x7x7 -> 64x3x3 -> fc1 128 -> fc2 10.
    """

    in_channels = 1

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.relu3 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dropout1 = nn.Dropout(0.3)
        self.fc1 = nn.Linear(64 * 3 * 3, 128)
        self.relu4 = nn.ReLU()
        self.dropout2 = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
        x = self.pool2(self.relu2(self.bn2(self.conv2(x))))
        x = self.pool3(self.relu3(self.bn3(self.conv3(x))))
        x = self.relu4(self.fc1(self.dropout1(self.flatten(x))))
        return self.fc2(self.dropout2(x))


class TinyVGG(nn.Module):
    """CIFAR-10 colour images, in the style of CNN Explainer's Tiny VGG.

    VGG's idea at toy scale: blocks of two convolutions then a 2x2 max pool,
    doubling the channels as the image shrinks. conv1 uses 5x5 kernels over the
    three colour channels so its 32 learned filters are colour patches large
    enough to look at. Global average pooling keeps the classifier tiny.
    3x32x32 -> 32x16x16 -> 64x8x8 -> 64x4x4 -> gap 64 -> fc 10.
    """

    in_channels = 3

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=5, padding=2)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.relu3 = nn.ReLU()
        self.conv4 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.bn4 = nn.BatchNorm2d(64)
        self.relu4 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv5 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.bn5 = nn.BatchNorm2d(64)
        self.relu5 = nn.ReLU()
        self.conv6 = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.bn6 = nn.BatchNorm2d(64)
        self.relu6 = nn.ReLU()
        self.pool3 = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)   # one number per channel: "how much of this pattern"
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.pool1(self.relu2(self.bn2(self.conv2(x))))
        x = self.relu3(self.bn3(self.conv3(x)))
        x = self.pool2(self.relu4(self.bn4(self.conv4(x))))
        x = self.relu5(self.bn5(self.conv5(x)))
        x = self.pool3(self.relu6(self.bn6(self.conv6(x))))
        x = self.flatten(self.gap(x))
        return self.fc(self.dropout(x))


# architecture name (as written in model cards) -> class
ARCHITECTURES: dict[str, type[nn.Module]] = {
    "DigitsCNN": DigitsCNN,
    "FashionCNN": FashionCNN,
    "TinyVGG": TinyVGG,
}


def head_name(arch: str) -> str:
    """The last Linear layer, whose out_features is the number of classes (on the model's spec)."""
    from .specs import spec_for_arch

    return spec_for_arch(arch).head
