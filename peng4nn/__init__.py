"""PEng4NN ("an accurate performance estimation engine for efficient automated neural network
architecture search"): extrapolating a network's own partial validation-accuracy curve with
f(x) = a − b^(c − x) and stopping its training once the prediction is stable.

Modules: `curve` (Sec. III-B, Algorithm 1), `analyzer` (Sec. III-C, Algorithm 2, Table II),
`engine` (the decoupled engine, replay and live training), `menndl` (the baseline criterion,
Sec. IV-B), `family` (the random generator of Sec. IV-A-2, zoo family ``peng4nn``),
`predictor` (`PEng4NNPredictor` for `common.compare`), `experiments` (the notebook's
computations). Paper text: ../shared/papers/001_9847eaeac7ced414.txt.
"""
