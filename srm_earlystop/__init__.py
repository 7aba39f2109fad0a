"""Baker, Gupta, Raskar, Naik, "Accelerating Neural Architecture Search using Performance
Prediction" (ICLR 2018 workshop): sequential regression models on partial curves,
architecture and hyperparameters, with early stopping and f-Hyperband.

Modules: `features` (Sec. 3.1), `regressors` (Appendix B), `srm` (SRMs and LOOCV σ, Sec. 4),
`early_stopping` (Sec. 4), `fhyperband` (Appendix C), `lce` (the LCE baseline, least squares),
`metaqnn` (the zoo family, Appendix A), `predictor` (`SRMPredictor` for `common.compare`),
`experiments` and `plots` (the notebook's computations and figures), `synthetic` (curves for
tests and benchmarks). Paper text: ../shared/papers/002_83b21f32f066d45a.txt.
"""
