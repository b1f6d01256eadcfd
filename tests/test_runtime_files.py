"""shared/runtime/files.py: atomic JSON, run folders, and checkpoints that round-trip exactly and
load safely."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.runtime import devices, files
from shared.runtime.errors import UserError


def test_write_json_is_atomic_and_sorted(tmp_path):
    path = files.write_json(tmp_path / "sub" / "metrics.json", {"b": 2, "a": 1.5})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": 2}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temp file left


def _checkpoint(hidden=8):
    model = torch.nn.Linear(3, hidden)
    return model, {"model": model.state_dict(), "model_config": {"hidden_size": hidden},
                   "vocab": "abc", "step": 12}


def test_checkpoint_round_trip(tmp_path):
    model, ckpt = _checkpoint()
    path = files.save_checkpoint(tmp_path / "last.pt", ckpt)
    loaded = files.load_checkpoint(path, expect={"model_config": {"hidden_size": 8},
                                                 "vocab": "abc"})
    assert loaded["step"] == 12
    fresh = torch.nn.Linear(3, 8)
    fresh.load_state_dict(loaded["model"])
    assert torch.equal(fresh.weight, model.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_resume_checkpoint_round_trip_is_exact(tmp_path):
    """What shared.lm.loop.fit stores (optimizer state after real steps, recurrent states, the RNG)
    comes back from the safe load identical, so a resumed run continues exactly."""
    torch.manual_seed(0)
    model = torch.nn.LSTM(3, 4, batch_first=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(2, 5, 3))[0].pow(2).mean().backward()
        optimizer.step()
    states = [[None, (torch.randn(1, 2, 4), torch.randn(1, 2, 4))], [torch.randn(1, 2, 4), None]]
    ckpt = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "states": states,
            "best_val": float("inf"), "history": {"step": [10, 20], "val_loss": [2.5, 2.25]},
            "step": 20, "rng": torch.get_rng_state()}
    after_save = torch.randn(4)  # what the uninterrupted run draws next
    loaded = files.load_checkpoint(files.save_checkpoint(tmp_path / "last.pt", ckpt))
    assert loaded.keys() == ckpt.keys()
    for key, tensor in ckpt["model"].items():
        assert torch.equal(loaded["model"][key], tensor), key
    fresh = torch.optim.AdamW(torch.nn.LSTM(3, 4, batch_first=True).parameters(), lr=1e-2)
    fresh.load_state_dict(loaded["optimizer"])
    for saved, restored in zip(optimizer.state_dict()["state"].values(),
                               fresh.state_dict()["state"].values(), strict=True):
        assert all(torch.equal(saved[k], restored[k]) for k in ("step", "exp_avg", "exp_avg_sq"))
    assert loaded["states"][0][0] is None and isinstance(loaded["states"][0][1], tuple)
    assert torch.equal(loaded["states"][0][1][1], states[0][1][1])
    assert torch.equal(loaded["states"][1][0], states[1][0])
    assert loaded["best_val"] == float("inf") and loaded["history"] == ckpt["history"]
    torch.set_rng_state(loaded["rng"])
    assert torch.equal(torch.randn(4), after_save)


@pytest.mark.parametrize(("value", "where"), [
    (np.float64(0.5), "checkpoint['history']['val_loss'][1] is a numpy.float64"),
    (np.zeros(3), "checkpoint['history']['val_loss'][1] is a numpy.ndarray"),
    (Path("x"), "checkpoint['history']['val_loss'][1] is a pathlib."),
])
def test_save_checkpoint_refuses_what_a_safe_load_cannot_read(tmp_path, value, where):
    """A value that torch.load(weights_only=True) would refuse is refused when saving, naming
    where it sits, and no file is written."""
    ckpt = {"step": 1, "history": {"val_loss": [1.0, value]}}
    with pytest.raises(TypeError, match=re.escape(where)):
        files.save_checkpoint(tmp_path / "last.pt", ckpt)
    assert list(tmp_path.iterdir()) == []
    torch.save(ckpt, tmp_path / "raw.pt")  # the reason: PyTorch's safe loader refuses it
    with pytest.raises(Exception, match="Unsupported global"):
        torch.load(tmp_path / "raw.pt", weights_only=True)


def test_checkpoint_refuses_other_config_or_vocab(tmp_path):
    _, ckpt = _checkpoint()
    path = files.save_checkpoint(tmp_path / "last.pt", ckpt)
    with pytest.raises(UserError, match=r"different model config \(hidden_size: 8 in checkpoint, 16 now"):
        files.load_checkpoint(path, expect={"model_config": {"hidden_size": 16}})
    with pytest.raises(UserError, match="different vocab .*only now: 'd'"):
        files.load_checkpoint(path, expect={"vocab": "abcd"})


def test_missing_or_corrupt_checkpoint(tmp_path):
    with pytest.raises(UserError, match="no checkpoint at"):
        files.load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable checkpoint"):
        files.load_checkpoint(bad)


def test_run_dir(tmp_path):
    path = files.run_dir(tmp_path / "results", "lstm")
    assert path.is_dir() and path.name == "lstm"
    assert devices.count_params(torch.nn.Linear(3, 2)) == 8
