"""PyTorch models for the network tests and benchmarks (import only where torch is installed)."""

from __future__ import annotations

import torch
from torch import nn


class Residual(nn.Module):
    """A residual block: conv-BN-ReLU-conv-BN, plus the input (or a strided 1x1 projection)."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                   nn.BatchNorm2d(cout)) if stride != 1 or cin != cout
                     else nn.Identity())

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.skip(x))


def resnet(stem: int, stages: tuple[tuple[int, int], ...], blocks: int, classes: int,
           channels: int = 3) -> nn.Sequential:
    """A ResNet: 7x7/2 stem, 3x3/2 max pool, `blocks` residual blocks per (width, stride)
    stage, global average pool, linear classifier. ``resnet(64, ((64, 1), (128, 2),
    (256, 2), (512, 2)), 2, 1000)`` is ResNet-18."""
    layers = [nn.Conv2d(channels, stem, 7, 2, 3, bias=False), nn.BatchNorm2d(stem), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    cin = stem
    for width, stride in stages:
        for b in range(blocks):
            layers.append(Residual(cin, width, stride if b == 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)
