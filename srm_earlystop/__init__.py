"""Baker, Gupta, Raskar, Naik, "Accelerating Neural Architecture Search using Performance
Prediction" (ICLR 2018 workshop): sequential regression models on partial curves,
architecture and hyperparameters, with early stopping and f-Hyperband.

Modules: `features` (Sec. 3.1), `regressors` (Appendix B), `srm` (SRMs and LOOCV σ, Sec. 4),
`early_stopping` (Sec. 4), `fhyperband` (Appendix C), `lce` (the LCE baseline, least squares),
`metaqnn` (the zoo family, Appendix A), `predictor` (`SRMPredictor` for `common.compare`),
`experiments` and `plots` (the notebook's computations and figures), `synthetic` (curves for
tests and benchmarks). Paper text: ../shared/papers/002_83b21f32f066d45a.txt.
"""

# Entry points, imported on first use (PEP 562) so that importing the package stays cheap
# and worker processes that only need its zoo family do not load the rest.
_EXPORTS = {
    "SRM": "srm_earlystop.srm",
    "should_stop": "srm_earlystop.early_stopping",
    "stop_probability": "srm_earlystop.early_stopping",
    "FHyperband": "srm_earlystop.fhyperband",
    "FHyperbandSettings": "srm_earlystop.fhyperband",
    "SRMPredictor": "srm_earlystop.predictor",
    "LCEPredictor": "srm_earlystop.lce",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import an entry point of `__all__` from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_EXPORTS[name]), name)
