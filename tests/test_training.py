import json

import pytest
import torch

from shared import training
from shared.errors import UserError


def test_pick_device():
    assert training.pick_device("cpu").type == "cpu"
    assert training.pick_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(UserError, match="choose one of"):
        training.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match="no CUDA GPU"):
            training.pick_device("cuda")


def test_seed_everything_repeats():
    training.seed_everything(7)
    first = torch.randn(5)
    training.seed_everything(7)
    assert torch.equal(first, torch.randn(5))


def test_set_threads():
    before = torch.get_num_threads()
    try:
        assert training.set_threads(1) == 1
    finally:
        torch.set_num_threads(before)


def test_write_json_is_atomic_and_sorted(tmp_path):
    path = training.write_json(tmp_path / "sub" / "metrics.json", {"b": 2, "a": 1.5})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": 2}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temp file left


def _checkpoint(hidden=8):
    model = torch.nn.Linear(3, hidden)
    return model, {"model": model.state_dict(), "model_config": {"hidden_size": hidden},
                   "vocab": "abc", "step": 12}


def test_checkpoint_round_trip(tmp_path):
    model, ckpt = _checkpoint()
    path = training.save_checkpoint(tmp_path / "last.pt", ckpt)
    loaded = training.load_checkpoint(path, expect={"model_config": {"hidden_size": 8},
                                                    "vocab": "abc"})
    assert loaded["step"] == 12
    fresh = torch.nn.Linear(3, 8)
    fresh.load_state_dict(loaded["model"])
    assert torch.equal(fresh.weight, model.weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


def test_checkpoint_refuses_other_config_or_vocab(tmp_path):
    _, ckpt = _checkpoint()
    path = training.save_checkpoint(tmp_path / "last.pt", ckpt)
    with pytest.raises(UserError, match=r"different model config \(hidden_size: 8 in checkpoint, 16 now"):
        training.load_checkpoint(path, expect={"model_config": {"hidden_size": 16}})
    with pytest.raises(UserError, match="different vocab .*only now: 'd'"):
        training.load_checkpoint(path, expect={"vocab": "abcd"})


def test_missing_or_corrupt_checkpoint(tmp_path):
    with pytest.raises(UserError, match="no checkpoint at"):
        training.load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable checkpoint"):
        training.load_checkpoint(bad)


def test_run_dir(tmp_path):
    path = training.run_dir(tmp_path / "results", "lstm")
    assert path.is_dir() and path.name == "lstm"
    assert training.count_params(torch.nn.Linear(3, 2)) == 8
