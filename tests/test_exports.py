"""Each method package exports its entry points from `__init__` (issue 18, first part)."""

import importlib

import pytest

PACKAGES = ["peephole", "peng4nn", "srm_earlystop", "feature_histories", "weights_to_acc"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves_and_unknown_ones_fail(name):
    package = importlib.import_module(name)
    assert package.__all__
    for entry in package.__all__:
        assert getattr(package, entry).__module__.startswith(name) or entry.isupper()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        package.nope  # noqa: B018


def test_the_readme_imports_work():
    from peng4nn import Engine, replay  # noqa: F401
    from srm_earlystop import SRM, should_stop  # noqa: F401
    from weights_to_acc import WeightsPredictor  # noqa: F401
