"""Issue 14: each family's book-scale sampler yields networks that learn. The first four
networks of each chapter's book-scale zoo, trained on digits for 3 epochs (a fraction of
their book-scale run), must beat chance (0.1) by 30 points at the median, and at most one
may stay within 2 points of chance. The old book settings failed this: half their networks
never left chance even after the whole run."""

from dataclasses import replace

import numpy as np
import pytest

from common import health, train, zoo

BRIEF_EPOCHS, N, MARGIN = 3.0, 4, 0.30


def book_specs():
    from feature_histories import experiments as fh
    from peephole import experiments as peephole
    from peng4nn import experiments as peng4nn
    from srm_earlystop import experiments as srm

    # Unterthiner's Small CNN zoo is left out: it holds failing networks by design
    return {
        "blocks": peephole.zoo_spec("digits", "book"),
        "metaqnn": srm.zoo_spec("digits", "book"),
        "nb201": fh.zoo_spec("digits", "book"),
        "peng4nn": peng4nn.zoo_spec("digits", "book"),
    }


@pytest.mark.parametrize("name", sorted(book_specs()))
def test_the_book_scale_sampler_yields_networks_that_learn(name, digits):
    spec = book_specs()[name]
    splits = zoo._load_splits(spec.dataset, None, spec.val_size, spec.seed, spec.scaling)
    chance = health.chance_level(splits.val_y)
    final = []
    for i in range(N):
        arch, recipe, _ = zoo.sample_network(spec, i, splits.input_shape, splits.num_classes)
        seed = zoo.network_seeds(spec, i)[1]
        result = train.train(
            arch, replace(recipe, epochs=BRIEF_EPOCHS), splits, seed=seed, device="cpu"
        )
        final.append(result.curves["val_acc"][-1] if result.status == "ok" else np.nan)
    final = np.array(final)
    assert np.nanmedian(final) >= chance + MARGIN, f"{name}: {final.round(3)}"
    assert np.sum(~(final > chance + health.CHANCE_MARGIN)) <= 1, f"{name}: {final.round(3)}"


def test_one_blocks_zoo_serves_the_peephole_chapter_and_the_comparison():
    from comparison import settings
    from peephole import experiments as peephole

    assert peephole.zoo_spec("digits", "book") == settings.zoo_specs("book")["architectures"]
