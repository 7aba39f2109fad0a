"""PEng4NN ("an accurate performance estimation engine for efficient automated neural network
architecture search"): extrapolating a network's own partial validation-accuracy curve with
f(x) = a − b^(c − x) and stopping its training once the prediction is stable.

Modules: `curve` (Sec. III-B, Algorithm 1), `analyzer` (Sec. III-C, Algorithm 2, Table II),
`engine` (the decoupled engine, replay and live training), `menndl` (the baseline criterion,
Sec. IV-B), `family` (the random generator of Sec. IV-A-2, zoo family ``peng4nn``),
`predictor` (`PEng4NNPredictor` for `common.compare`), `experiments` (the notebook's
computations). Paper text: ../shared/papers/001_9847eaeac7ced414.txt.
"""

from common.plugins import lazy_exports

# entry points, imported on first use
__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "Engine": "peng4nn.engine",
        "replay": "peng4nn.engine",
        "train_live": "peng4nn.engine",
        "AnalyzerSettings": "peng4nn.analyzer",
        "TABLE_II": "peng4nn.analyzer",
        "PEng4NNPredictor": "peng4nn.predictor",
        "PEng4NNPruner": "peng4nn.pruner",
    },
)
