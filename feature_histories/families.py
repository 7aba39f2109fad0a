"""Architecture families of Fig. 5 sized for small inputs: VGG-, ResNet- and MobileNetV2-style
networks, each a plain `common.archs.Architecture`.

- VGG-style: `common.archs.vgg_style` (three stages of two 3×3 conv-BN-ReLU, max pooling);
- ResNet-style: the NAS-Bench-201 skeleton whose cell is a basic residual block
  (node 3 = x + conv3×3(conv3×3(x)), each conv being ReLU-conv-BN);
- MobileNetV2-style: inverted bottlenecks (1×1 expansion by 6, depthwise 3×3, linear 1×1
  projection, batch norm after each) without the residual connections, which the layer
  vocabulary has only inside NAS-Bench-201 cells; so "MobileNetV2-style" here means its
  layer pattern, not its skip connections.
"""

from __future__ import annotations

from common import archs
from feature_histories import nb201

BASIC_BLOCK = ("nor_conv_3x3", "none", "nor_conv_3x3", "skip_connect", "none", "skip_connect")


def vgg(input_shape, num_classes: int, width: int = 8) -> archs.Architecture:
    """A VGG-style network (Cao et al.'s Table 4 families)."""
    return archs.vgg_style(input_shape, num_classes, width)


def resnet(input_shape, num_classes: int, width: int = 8, blocks: int = 1):
    """A ResNet-style network of basic blocks."""
    return nb201.architecture(BASIC_BLOCK, input_shape, num_classes, width, blocks)


def mobilenet_v2(input_shape, num_classes: int, width: int = 8, expansion: int = 6):
    """A MobileNetV2-style network of inverted residual blocks."""
    layers = [
        {"type": "conv", "kernel": 3, "padding": 1, "out_channels": width},
        {"type": "batchnorm"},
        {"type": "relu"},
    ]
    channels = width
    for stage, stride in enumerate((1, 2, 2)):
        out, hidden = width * 2**stage, channels * expansion
        layers += [
            {"type": "conv", "kernel": 1, "out_channels": hidden},
            {"type": "batchnorm"},
            {"type": "relu"},
            {
                "type": "conv",
                "kernel": 3,
                "stride": stride,
                "padding": 1,
                "out_channels": hidden,
                "groups": hidden,
            },
            {"type": "batchnorm"},
            {"type": "relu"},
            {"type": "conv", "kernel": 1, "out_channels": out},
            {"type": "batchnorm"},
        ]
        channels = out
    layers += [
        {"type": "relu"},
        {"type": "global_avg_pool"},
        {"type": "linear", "out_features": num_classes},
    ]
    return archs.Architecture(tuple(input_shape), num_classes, layers)


FAMILIES = {"VGG-style": vgg, "ResNet-style": resnet, "MobileNetV2-style": mobilenet_v2}
