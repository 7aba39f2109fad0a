"""Shared, session-scoped fixtures: expensive things (data, tiny zoos) are built once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from common import data, zoo

# One torch thread everywhere in the test process: the same as a zoo worker, so in-process
# builds reproduce subprocess builds bit for bit.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    return data.load("digits")


def build_in_process(spec: zoo.ZooSpec, path) -> zoo.Zoo:
    """Build a zoo in this process (a one-thread executor) and load it."""
    with ThreadPoolExecutor(1) as executor:
        zoo.build(spec, path, executor, progress=False)
    return zoo.load(path)


TINY_SPEC = zoo.ZooSpec(
    "demo",
    n_networks=14,
    seed=3,
    epochs=2.0,
    eval_every=0.5,
    probes=("weight_stats",),
    keep_weights=True,
)


@pytest.fixture(scope="session")
def tiny_zoo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("zoo") / "tiny.sqlite"
    build_in_process(TINY_SPEC, path)
    return path


@pytest.fixture(scope="session")
def tiny_zoo(tiny_zoo_path):
    return zoo.load(tiny_zoo_path)


@pytest.fixture(scope="session")
def probe_zoo(tmp_path_factory):
    """A dozen smoke-scale ``blocks`` networks with every probe the methods read (the
    comparison's architecture zoo, smaller): 2 epochs, evaluated every half epoch."""
    from dataclasses import replace

    from comparison import settings

    spec = replace(settings.zoo_specs("smoke")["architectures"], n_networks=12)
    return build_in_process(spec, tmp_path_factory.mktemp("probes") / "blocks.sqlite")
