"""The fixed backbones suites hand to every method (`LearnerContext.make_backbone`).

Every method on a suite trains the same network, so a comparison is about the method, not the
architecture. Backbones are written here (no torchvision dependency) and looked up by the name a
suite file gives. Each has `.features(x)` (the penultimate representation) and a linear `.head`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import Tensor, nn

from harness.configfile import did_you_mean
from harness.errors import ConfigError


class Backbone(nn.Module):
    """A feature extractor followed by a linear head."""

    def __init__(self, body: nn.Module, feature_dim: int, num_outputs: int):
        super().__init__()
        self.body = body
        self.feature_dim = feature_dim
        self.head = nn.Linear(feature_dim, num_outputs)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True), "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU,
}


def _activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(f'unknown activation "{name}"{did_you_mean(name, ACTIVATIONS)}')
    return ACTIVATIONS[name]()


def small_cnn(input_shape: tuple[int, ...], num_outputs: int, width: int = 32,
              activation: str = "relu") -> Backbone:
    """Three conv-BN-activation-pool blocks (width, 2·width, 2·width), global average pooling.

    About 60k parameters at width 32; trains at a few thousand 32×32 images/s on 2 CPU cores.
    `activation` exists for time-to-result held-out variants.
    """
    channels = input_shape[0]

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                _activation(activation), nn.MaxPool2d(2)]

    body = nn.Sequential(
        *block(channels, width), *block(width, 2 * width), *block(2 * width, 2 * width),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )
    return Backbone(body, 2 * width, num_outputs)


def mlp(input_shape: tuple[int, ...], num_outputs: int, hidden: int = 400,
        num_layers: int = 2, activation: str = "relu") -> Backbone:
    """Fully connected network (the Split-MNIST standard is 2 × 400 with ReLU)."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(input_shape)
    for _ in range(num_layers):
        layers += [nn.Linear(width, hidden), _activation(activation)]
        width = hidden
    return Backbone(nn.Sequential(*layers), width, num_outputs)


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (out + self.shortcut(x)).relu()


def resnet18_reduced(input_shape: tuple[int, ...], num_outputs: int, width: int = 20) -> Backbone:
    """The reduced ResNet-18 of Lopez-Paz & Ranzato (GEM, 2017), standard in Split-CIFAR work
    (GEM, A-GEM, ER, DER): BasicBlocks [2, 2, 2, 2] with `width` (20) base filters instead of
    64, a 3×3 stride-1 stem, global average pooling; ~1.1 M parameters."""
    layers: list[nn.Module] = [nn.Conv2d(input_shape[0], width, 3, 1, 1, bias=False),
                               nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
    c_in = width
    for multiplier, stride in ((1, 1), (2, 2), (4, 2), (8, 2)):
        c_out = width * multiplier
        layers += [_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1)]
        c_in = c_out
    body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return Backbone(body, c_in, num_outputs)


BACKBONES: dict[str, Callable[..., Backbone]] = {
    "small_cnn": small_cnn, "mlp": mlp, "resnet18_reduced": resnet18_reduced,
}


def backbone_factory(name: str, input_shape: tuple[int, ...], num_outputs: int,
                     **kwargs: int | str) -> Callable[[], Backbone]:
    """A zero-argument factory for `LearnerContext.make_backbone`."""
    if name not in BACKBONES:
        raise ConfigError(f'unknown backbone "{name}"{did_you_mean(name, BACKBONES)}; '
                          f"available: {', '.join(sorted(BACKBONES))}")
    build = BACKBONES[name]
    return lambda: build(tuple(input_shape), num_outputs, **kwargs)
