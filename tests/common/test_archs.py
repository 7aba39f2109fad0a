import json

import pytest
import torch

from common import archs

SMALL_CNN = archs.Architecture(
    (1, 28, 28),
    10,
    [
        *[{"type": "conv", "kernel": 3, "out_channels": 16, "stride": 2}, {"type": "relu"}] * 3,
        {"type": "global_avg_pool"},
        {"type": "linear", "out_features": 10},
    ],
)

VARIED = archs.Architecture(
    (3, 17, 13),
    7,
    [
        {"type": "conv", "kernel": [3, 5], "out_channels": 6, "stride": [1, 2], "padding": [1, 0]},
        {"type": "batchnorm"},
        {"type": "tanh"},
        {"type": "maxpool", "kernel": 2},
        {"type": "conv", "kernel": 1, "out_channels": 4, "in_channels": 6},
        {"type": "sigmoid"},
        {"type": "avgpool", "kernel": 3, "stride": 1, "padding": 1},
        {"type": "dropout", "p": 0.3},
        {"type": "flatten"},
        {"type": "linear", "out_features": 11},
        {"type": "relu"},
        {"type": "linear", "out_features": 7},
    ],
)


def test_unterthiner_small_cnn_has_4970_weights():
    # 3x3 convs of 16 filters: 1*16*9+16 = 160, then 16*16*9+16 = 2320 twice; dense 16*10+10
    assert archs.num_params(SMALL_CNN) == 160 + 2320 + 2320 + 170 == 4970


def test_param_count_from_shapes_matches_the_built_module():
    for arch in (SMALL_CNN, VARIED):
        module = archs.build(arch)
        assert archs.num_params(arch) == sum(p.numel() for p in module.parameters())


def test_shapes_match_hand_computation_and_forward_pass():
    shapes = archs.shapes(VARIED)
    # conv kernel w=3,h=5, stride w=1,h=2, pad w=1,h=0: H=(17-5)//2+1=7, W=(13+2-3)//1+1=13
    assert shapes[0] == (6, 7, 13)
    assert shapes[3] == (6, 3, 6)  # 2x2 max pool
    assert shapes[8] == (4 * 3 * 6,)
    module = archs.build(VARIED).eval()
    x = torch.randn(5, *VARIED.input_shape)
    assert module.features(x).shape == (5, 11)
    assert torch.allclose(module(x), module.classifier(module.features(x)))
    assert module(x).shape == (5, 7)


def test_depth_counts_weight_layers():
    assert archs.depth(SMALL_CNN) == 4
    assert archs.depth(VARIED) == 4


def test_json_round_trip():
    text = VARIED.to_json()
    assert archs.Architecture.from_json(text) == VARIED
    assert json.loads(text)["num_classes"] == 7


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([{"type": "conv2"}, {"type": "linear"}], r"layer 0 \(conv2\): unknown layer type"),
        (
            [
                {"type": "conv", "kernel": 9, "out_channels": 2},
                {"type": "flatten"},
                {"type": "linear"},
            ],
            r"layer 0 \(conv\).*spatial size.*below 1",
        ),
        (
            [
                {"type": "conv", "kernel": 3, "out_channels": 2},
                {"type": "conv", "kernel": 1, "out_channels": 2, "in_channels": 5},
                {"type": "flatten"},
                {"type": "linear"},
            ],
            r"layer 1 \(conv\): declares 5 input channels but receives 2",
        ),
        ([{"type": "linear"}], r"layer 0 \(linear\): linear got spatial input"),
        ([{"type": "flatten"}, {"type": "linear", "out_features": 3}], r"out_features=3"),
        ([{"type": "flatten"}, {"type": "relu"}], "last layer must be 'linear'"),
        ([{"type": "conv", "out_channels": 2}, {"type": "linear"}], "missing key 'kernel'"),
    ],
)
def test_invalid_architectures_name_the_layer_and_problem(layers, message):
    arch = archs.Architecture((1, 8, 8), 10, layers)
    with pytest.raises(ValueError, match=message):
        archs.build(arch)


def test_one_registry_knows_every_built_in_layer_type():
    assert archs.LAYER_TYPES == tuple(archs.BUILT_IN)
    arch = archs.Architecture(
        (1, 8, 8),
        10,
        [
            {"type": "conv", "kernel": 3, "out_channels": 4},
            {"type": "batchnorm"},
            {"type": "tanh"},
            {"type": "avgpool", "kernel": 2},
            {"type": "dropout", "p": 0.1},
            {"type": "flatten"},
            {"type": "linear", "out_features": 10},
        ],
    )
    net = archs.build(arch)
    kinds = [type(m).__name__ for m in net.modules()]
    for name in ("Conv2d", "BatchNorm2d", "Tanh", "AvgPool2d", "Dropout", "Flatten", "Linear"):
        assert name in kinds
    # 4·9 + 4 conv, 2·4 batch norm, 4·3·3 = 36 features -> 10
    assert archs.num_params(arch) == 40 + 8 + 370 == sum(p.numel() for p in net.parameters())
