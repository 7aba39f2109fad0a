"""Baker, Gupta, Raskar, Naik, "Accelerating Neural Architecture Search using Performance
Prediction" (ICLR 2018 workshop): sequential regression models on partial curves,
architecture and hyperparameters, with early stopping and f-Hyperband.

Modules: `features` (Sec. 3.1), `regressors` (Appendix B), `srm` (SRMs and LOOCV σ, Sec. 4),
`early_stopping` (Sec. 4), `fhyperband` (Appendix C), `lce` (the LCE baseline, least squares),
`metaqnn` (the zoo family, Appendix A), `predictor` (`SRMPredictor` for `common.compare`),
`experiments` and `plots` (the notebook's computations and figures), `synthetic` (curves for
tests and benchmarks). Paper text: ../shared/papers/002_83b21f32f066d45a.txt.
"""

from common.plugins import lazy_exports

# entry points, imported on first use
__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "SRM": "srm_earlystop.srm",
        "should_stop": "srm_earlystop.early_stopping",
        "stop_probability": "srm_earlystop.early_stopping",
        "FHyperband": "srm_earlystop.fhyperband",
        "FHyperbandSettings": "srm_earlystop.fhyperband",
        "SRMPredictor": "srm_earlystop.predictor",
        "LCEPredictor": "srm_earlystop.lce",
        "SRMPruner": "srm_earlystop.pruner",
        "LCEPruner": "srm_earlystop.pruner",
        "CurveRegressor": "srm_earlystop.estimator",
    },
)
