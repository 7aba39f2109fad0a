"""Cao, Wang, Kitani, "Efficient Model Performance Estimation via Feature Histories": proxy
classifiers fitted on the penultimate features of a network's last K epochs estimate the
accuracy it will end with, early and cheaply.

Modules: `history` (capture, Algorithm 1), `proxy` (the K classifiers and their ensemble,
Appendix A.1), `probe` (zoo probe ``fh`` and `FeatureHistoryPredictor`), `nb201` (the
NAS-Bench-201-style cell space, zoo family ``nb201``), `families` (Fig. 5's VGG-, ResNet-,
MobileNetV2-style networks), `search` (random search, Hyperband, BOHB with and without the
proxy) and `experiments` (the replication; ``replication.ipynb`` calls it).
Paper text: ../shared/papers/003_7daf96b41e009c9c.txt.
"""

from common.plugins import lazy_exports

# entry points, imported on first use
__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "History": "feature_histories.history",
        "estimates": "feature_histories.proxy",
        "ProxySettings": "feature_histories.proxy",
        "FeatureHistoryPredictor": "feature_histories.probe",
        "FeatureHistoryCallback": "feature_histories.callback",
    },
)
