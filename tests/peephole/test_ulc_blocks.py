import numpy as np
import pytest
import torch
from scipy.stats import chisquare

from common import archs, zoo
from peephole import blocks, ulc

HAND = archs.Architecture(
    (3, 16, 16),
    10,
    [
        {"type": "conv", "kernel": [3, 5], "out_channels": 6, "padding": [1, 2]},  # 6 / 3 = 2.0
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "maxpool", "kernel": 2},
        {"type": "conv", "kernel": 1, "out_channels": 3},  # 3 / 6 = 0.5
        {"type": "sigmoid"},
        {"type": "avgpool", "kernel": [4, 3], "stride": 1},
        {"type": "conv", "kernel": 5, "out_channels": 4, "padding": 2},  # 4 / 3 = 1.33 -> 1.5
        {"type": "tanh"},
        {"type": "global_avg_pool"},
        {"type": "linear", "out_features": 10},
    ],
)


def test_ulc_codes_of_a_hand_written_architecture_follow_table_1():
    assert ulc.encode(HAND).tolist() == [
        [1, 3, 5, 6],  # conv, KW 3, KH 5, ratio 2.0 = bin 6
        [7, 1, 1, 4],  # batch norm
        [4, 1, 1, 4],  # ReLU
        [2, 2, 2, 4],  # max-pool 2
        [1, 1, 1, 2],  # conv 1x1, ratio 0.5 = bin 2
        [5, 1, 1, 4],  # sigmoid
        [3, 4, 3, 4],  # avg-pool, KW 4, KH 3
        [1, 5, 5, 5],  # conv 5x5, ratio 4/3 nearest 1.5 = bin 5
        [6, 1, 1, 4],  # tanh
    ]


@pytest.mark.parametrize(
    ("ratio", "code"),
    [
        (0.1, 1),
        (0.3749, 1),
        (0.375, 2),
        (0.6249, 2),
        (0.625, 3),
        (1.0, 4),
        (1.2499, 4),
        (1.25, 5),
        (2.74, 7),
        (2.7499, 7),
        (2.75, 8),
        (9.0, 8),
    ],
)
def test_channel_ratio_bins_and_their_edges(ratio, code):
    # edges are midpoints (0.375 | 0.625 | 0.875 | 1.25 | 1.75 | 2.25 | 2.75), upper bin on ties
    assert ulc.channel_code(ratio) == code


def test_ulc_rejects_what_it_cannot_encode():
    dropout = archs.Architecture(
        (1, 8, 8),
        10,
        [
            {"type": "conv", "kernel": 3, "out_channels": 4},
            {"type": "dropout", "p": 0.5},
            {"type": "relu"},
            {"type": "flatten"},
            {"type": "linear"},
        ],
    )
    with pytest.raises(ValueError, match=r"layer 1 \(dropout\) has no Unified Layer Code"):
        ulc.encode(dropout)
    assert ulc.encode(dropout, skip=("dropout",)).tolist() == [[1, 3, 3, 8], [4, 1, 1, 4]]
    with pytest.raises(ValueError, match="empty architecture"):
        ulc.encode(archs.Architecture((1, 8, 8), 10, [{"type": "flatten"}, {"type": "linear"}]))
    seven = {"type": "conv", "kernel": 7, "out_channels": 2}
    big = archs.Architecture((1, 16, 16), 10, [seven, {"type": "flatten"}, {"type": "linear"}])
    with pytest.raises(ValueError, match="kernel 7×7 outside"):
        ulc.encode(big)


def test_block_chain_matches_the_transition_matrix_and_limits():
    rng = np.random.default_rng(0)
    counts = np.zeros((6, 6))
    after_conv = bn_after_conv = 0
    for _ in range(4000):
        block = blocks.sample_block(rng)
        assert block[0]["type"] == "conv" and len(block) <= 10
        assert sum(layer["type"] == "conv" for layer in block) <= 3
        types = [layer["type"] for layer in block]
        for i, t in enumerate(types):
            if t == "conv" and i + 1 < len(types):
                after_conv += 1
                bn_after_conv += types[i + 1] == "batchnorm"
        chain = [t for t in types if t != "batchnorm"]
        convs = np.cumsum([t == "conv" for t in chain])
        for i, (now, nxt) in enumerate(zip(chain, chain[1:], strict=False)):
            if convs[i] < 3:  # a fourth conv would end the block: only count free draws
                counts[blocks.STATES.index(now), blocks.STATES.index(nxt)] += 1
    assert bn_after_conv / after_conv == pytest.approx(0.6, abs=0.03)
    for row in range(6):
        observed, expected_p = counts[row], blocks.TRANSITIONS[row]
        keep = expected_p > 0
        assert observed[~keep].sum() == 0  # zero-probability transitions never happen
        expected = expected_p[keep] / expected_p[keep].sum() * observed[keep].sum()
        assert chisquare(observed[keep], expected).pvalue > 0.001


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28)])
def test_every_sampled_network_builds_and_runs(shape):
    rng = np.random.default_rng(1)
    for _ in range(15):
        arch, recipe, extra = blocks.sample(rng, input_shape=shape, num_classes=10, base_width=4)
        net = archs.build(arch).eval()
        assert net(torch.zeros(2, *shape)).shape == (2, 10)
        assert ulc.encode(arch).shape[1] == 4  # every block layer is encodable
        assert recipe.milestones == (5.0, 7.5) and recipe.init == "he_normal"
    assert zoo.get_family("blocks") is blocks.sample


def test_spec_epochs_scale_step_milestones():
    spec = zoo.ZooSpec("blocks", n_networks=1, epochs=4.0, family_options={"base_width": 4})
    _, recipe, _ = zoo.sample_network(spec, 0, (1, 8, 8), 10)
    assert recipe.epochs == 4.0 and recipe.milestones == (2.0, 3.0)
