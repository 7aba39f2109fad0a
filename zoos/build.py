"""Build (or resume) the zoos shipped in this folder (issue 14, item 4).

Some book-scale zoos take longer to train than a cold build of the book allows on two cores,
so they are built once, here, and shipped with the repository, the way NAS-Bench publishes
trained networks. Each is the zoo of exactly the spec its chapter asks for (the file name
holds the spec's key; `common.zoo.build_cached` finds it there) plus its replicate for the
noise ceiling (`common.health.replicate_specs`: several where the chapter's truth is a mean of
trainings). A build is resumable: run this again after
an interruption and only the missing networks are trained.

    uv run python zoos/build.py            # every shipped zoo
    uv run python zoos/build.py metaqnn    # one of them (names: SHIPPED)
    uv run python zoos/build.py --list     # names, specs, networks done

`tests/test_shipped_zoos.py` checks that every file here is the zoo of a spec in `SHIPPED`
(a stale zoo fails loudly) and that re-training its first networks reproduces their curves.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from common import health, zoo

FOLDER = Path(__file__).resolve().parent


def _metaqnn():
    from srm_earlystop import experiments

    return experiments.zoo_spec("digits", "book")


def _peng4nn():
    from peng4nn import experiments

    return experiments.zoo_spec("digits", "book")


def _smallcnn():
    from weights_to_acc import experiments

    return experiments.zoo_spec("digits", "book")


def _nb201():
    from feature_histories import experiments

    return experiments.zoo_spec("digits", "book")


def _wide32():
    from weights_to_acc import experiments

    return experiments.zoo_spec("digits", "book", filters=32)


def _real(package: str, dataset: str):
    """The book-scale zoo of `package`'s chapter on a real dataset (NNPERF_DATA)."""

    def spec():
        module = __import__(f"{package}.experiments", fromlist=["zoo_spec"])
        return module.zoo_spec(dataset, "book")

    return spec


def _compare(space: str):
    def spec():
        from comparison import settings

        return settings.zoo_specs("book")[space]

    return spec


# name -> the spec its chapter asks for at book scale (a function: imports stay lazy). The
# blocks zoo is both the Peephole chapter's and the comparison's architecture zoo. The nb201
# zoo and the 32-filter Small CNNs (Unterthiner's width study) took 2-3 minutes each of a
# cold build (which went over its 30 minutes); the 64-filter zoo (39 MB with its weights,
# which the chapter reads) stays built cold, to keep this folder under 60 MB.
SHIPPED = {
    "metaqnn": _metaqnn,
    "peng4nn": _peng4nn,
    "smallcnn": _smallcnn,
    "blocks": _compare("architectures"),
    "smallcnn-compare": _compare("hyperparameters"),
    "nb201": _nb201,
    "smallcnn-wide32": _wide32,
    # the real-data zoos of a build with NNPERF_DATA set (each ~30-60 min on two cores)
    "peng4nn-fashion_mnist": _real("peng4nn", "fashion_mnist"),
    "blocks-mnist": _real("peephole", "mnist"),
    "smallcnn-mnist": _real("weights_to_acc", "mnist"),
    "smallcnn-fashion_mnist": _real("weights_to_acc", "fashion_mnist"),
    "nb201-cifar10": _real("feature_histories", "cifar10_16@6500"),
}
NO_CEILING = {"smallcnn-wide32"}  # the chapter reports no noise ceiling for it


def _cao_truth(dataset: str):
    def truth():
        from feature_histories import experiments

        scale = experiments.scale_of(dataset, "book")
        return scale.truth_trainings or 1, scale.truth_networks

    return truth


# zoos whose chapter's truth is the mean of k trainings (Cao et al. Sec. 4.2.1: of three):
# (k, the networks it covers); the ceiling between two such means takes replicates 1..2k-1
# of the first `health.CEILING_NETWORKS`, the truth replicates 1..k of its networks
TRUTH_TRAININGS = {"nb201-cifar10": _cao_truth("cifar10_16@6500")}


def specs(name: str) -> list[zoo.ZooSpec]:
    """The zoo `name` and its noise-ceiling replicates (none for `NO_CEILING`; 2k - 1 for a
    truth averaged over k trainings, `TRUTH_TRAININGS`, and the truth's k replicates where
    it covers other networks than the ceiling; one otherwise)."""
    spec = SHIPPED[name]()
    if name in NO_CEILING:
        return [spec]
    trainings, networks = TRUTH_TRAININGS[name]() if name in TRUTH_TRAININGS else (1, None)
    ceiling = health.replicate_specs(spec, trainings=trainings)
    truth = health.truth_specs(spec, networks, trainings) if networks else []
    return [spec, *ceiling, *(s for s in truth if s not in ceiling)]


def path_of(spec: zoo.ZooSpec) -> Path:
    """Where the shipped zoo of `spec` lives."""
    return zoo.cache_path(spec, FOLDER)


def main(argv: list[str]) -> int:
    """``python zoos/build.py NAME`` builds a shipped zoo; ``--list`` prints their specs."""
    if argv == ["--list"]:
        for name in SHIPPED:
            for spec in specs(name):
                path = path_of(spec)
                done = len(zoo.load(path)) if path.exists() else 0
                print(f"{name}: {path.name} {done}/{spec.n_networks}")
        return 0
    unknown = [n for n in argv if n not in SHIPPED]
    if unknown:
        print(f"unknown shipped zoo(s) {unknown}; known: {sorted(SHIPPED)}", file=sys.stderr)
        return 2
    for name in argv or list(SHIPPED):
        for spec in specs(name):
            zoo.build(spec, path_of(spec))
            settle(path_of(spec))
            print(f"{name}: {path_of(spec).name} complete", flush=True)
    return 0


def settle(path: Path) -> None:
    """Leave the file in rollback-journal mode, complete on its own: a fresh clone has no
    ``-wal``/``-shm`` files, and a read-only open of a WAL database needs them."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
