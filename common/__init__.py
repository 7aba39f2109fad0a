"""nnperf's shared foundation: data, architectures, trainer, probes, model zoos, metrics and
the cross-comparison protocol. Kept light: submodules import torch (and torchvision only
where a dataset needs it) when they are imported themselves.
"""
