"""Unterthiner et al., "Predicting Neural Network Accuracy from Weights" (2020): the Small
CNN Zoo and accuracy predictors that read only a trained network's weights.

Modules: `family` (the ``smallcnn`` zoo family, Sec. 4.1, Appendix A.1–A.2), `batched`
(many Small CNNs trained at once with `torch.func.vmap`, equal to the one-at-a-time
trainer). Paper text: ../shared/papers/004_67480301844350ba.txt.
"""

from common.plugins import lazy_exports

# entry points, imported on first use
__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "WeightsPredictor": "weights_to_acc.predictor",
        "layer_statistics": "weights_to_acc.features",
        "fit": "weights_to_acc.predictors",
    },
)
