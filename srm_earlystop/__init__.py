"""Baker, Gupta, Raskar, Naik, "Accelerating Neural Architecture Search using Performance
Prediction" (ICLR 2018 workshop): sequential regression models on partial curves,
architecture and hyperparameters, with early stopping and f-Hyperband.

Modules: `features` (Sec. 3.1), `regressors` (Appendix B), `srm` (SRMs and LOOCV σ, Sec. 4),
`early_stopping` (Sec. 4), `predictor` (`SRMPredictor` for `common.compare`). Paper text:
../shared/papers/002_83b21f32f066d45a.txt.
"""
