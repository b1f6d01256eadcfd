"""shared/runtime/devices.py: the device choice, seeds and threads."""

import pytest
import torch

from shared.runtime import devices
from shared.runtime.errors import UserError


def test_pick_device():
    assert devices.pick_device("cpu").type == "cpu"
    assert devices.pick_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(UserError, match="choose one of"):
        devices.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            devices.pick_device("cuda")


def test_seed_everything_repeats():
    devices.seed_everything(7)
    first = torch.randn(5)
    devices.seed_everything(7)
    assert torch.equal(first, torch.randn(5))


def test_set_threads():
    before = torch.get_num_threads()
    try:
        assert devices.set_threads(1) == 1
    finally:
        torch.set_num_threads(before)
