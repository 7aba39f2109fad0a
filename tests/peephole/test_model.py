import numpy as np
import pytest
import torch

from common import compare
from peephole import model
from peephole.predictor import PeepholePredictor

RNG = np.random.default_rng(0)
CODES = [
    np.column_stack(
        [RNG.integers(1, 8, n), RNG.integers(1, 6, n), RNG.integers(1, 6, n), RNG.integers(1, 9, n)]
    )
    for n in (3, 5, 7, 2, 9, 4, 6, 8)
]
TARGET = np.linspace(0.1, 0.9, 8)


def test_the_model_overfits_a_tiny_set():
    config = model.PeepholeConfig(epochs=400, batch_size=8)
    net = model.fit(CODES, 10, TARGET, config, device="cpu")
    net.train()  # the training loss, with the batch statistics it was trained with
    with torch.no_grad():
        fitted = net([torch.as_tensor(c) for c in CODES], torch.full((8,), 10)).numpy()
    assert np.abs(fitted - TARGET).max() < 1e-3
    # in eval mode batch norm uses running statistics (unbiased variance of batches of 8)
    assert np.abs(model.predict(net.eval(), CODES, 10) - TARGET).max() < 0.15


def test_batched_output_equals_per_sequence_output():
    net = model.fit(CODES, 10, TARGET, model.PeepholeConfig(epochs=2), device="cpu")
    batched = model.predict(net, CODES, 10)
    one_by_one = np.concatenate([model.predict(net, [c], 10) for c in CODES])
    assert np.allclose(batched, one_by_one, atol=1e-6)
    assert net.structure([torch.as_tensor(CODES[0])]).shape == (1, 160)  # Sec. 5.1 size


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="at least one encoded layer"):
        model.fit([np.zeros((0, 4), dtype=int), CODES[0]], 10, [0.1, 0.2])
    with pytest.raises(ValueError, match="one finite accuracy"):
        model.fit(CODES, 10, TARGET[:3])
    with pytest.raises(ValueError, match="epoch 999"):
        model.fit(CODES, 999, TARGET)


def test_predictor_on_a_demo_zoo(tiny_zoo):
    table = compare.evaluate(
        [PeepholePredictor(model.PeepholeConfig(epochs=3), "cpu")],
        tiny_zoo,
        budgets=[0],
        train_size=8,
    )
    assert table.method.item() == "Peephole" and table.n_predicted.item() == table.n_test.item()


def test_bfloat16_inference_stays_close_to_float32():
    net = model.fit(CODES, 10, TARGET, model.PeepholeConfig(epochs=2), device="cpu")
    exact, low = model.predict(net, CODES, 10), model.predict(net, CODES, 10, bf16=True)
    assert low.dtype == np.float32 and np.abs(low - exact).max() < 0.05
