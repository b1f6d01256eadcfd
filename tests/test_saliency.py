"""Gradient saliency (CodeLLM/forecaster/saliency.py, MemoryLLM/saliency.py) checked against
models whose gradients are known by hand, and the patched transformer (--patch): its tokens,
its flag checks, and a --smoke run's metrics."""

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script

from tools.loader import load_stage_config

TRAIN = "CodeLLM/forecaster/train.py"
models = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "model.py")
torch_saliency = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "saliency.py")
LOOKBACK, FEATURES = 6, 3


class Pick(torch.nn.Module):
    """A forecaster whose forecast is 3 * x[:, k, j]: only day k's feature j matters."""

    def __init__(self, k: int, j: int):
        super().__init__()
        self.k, self.j = k, j

    def forward(self, x):
        return 3 * x[:, self.k, self.j].unsqueeze(-1)  # (batch, horizon 1)


class Linear(torch.nn.Module):
    """forecast = sum over days and features of w[t, f] * x[t, f], then a second step."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = w

    def forward(self, x):
        first = (x * self.w).sum(dim=(1, 2))
        return torch.stack([first, 100 * x[:, 0, 0]], dim=1)  # step 2 must not count


def windows(n: int = 300) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, LOOKBACK, FEATURES)).astype(np.float32)


def test_torch_saliency_of_a_model_that_reads_one_day():
    s = torch_saliency.saliency_by_lag(Pick(k=4, j=1), windows(), feature_index=1, batch_size=64)
    assert s["by_lag"] == pytest.approx([0, 0, 0, 0, 1, 0])
    assert s["by_lag_log_return"] == pytest.approx([0, 0, 0, 0, 1, 0])
    other = torch_saliency.saliency_by_lag(Pick(k=4, j=1), windows(), feature_index=2)
    assert other["by_lag_log_return"] == [0.0] * LOOKBACK  # that feature is never read
    assert "normalised to 1" in s["method"]


def test_torch_saliency_of_a_linear_model_is_its_weights():
    """The gradient of a linear forecast is its weights: sum |w| over features, normalised."""
    w = torch.tensor([[1.0, -2, 0], [0, 0, 0], [3, 1, -1], [0, 0, 0.5], [0, 0, 0], [-4, 0, 0]])
    s = torch_saliency.saliency_by_lag(Linear(w), windows(), feature_index=0, batch_size=7)
    by_day = w.abs().sum(dim=1)
    assert s["by_lag"] == pytest.approx((by_day / by_day.sum()).tolist())
    assert s["by_lag_log_return"] == pytest.approx([1 / 8, 0, 3 / 8, 0, 0, 4 / 8])


def test_torch_saliency_runs_on_both_forecasters():
    x = windows(40)
    for model in (models.TransformerForecaster(FEATURES, LOOKBACK, d_model=8, heads=2, patch=2),
                  models.LSTMForecaster(FEATURES, units=4)):
        s = torch_saliency.saliency_by_lag(model, x, feature_index=2, batch_size=16)
        assert len(s["by_lag"]) == len(s["by_lag_log_return"]) == LOOKBACK
        assert sum(s["by_lag"]) == pytest.approx(1.0) and min(s["by_lag"]) >= 0
        assert not model.training  # eval mode: no dropout in the gradient


def test_keras_saliency_matches_the_hand_computed_cases():
    keras = pytest.importorskip("keras")
    keras_saliency = load_stage_config(ROOT / "MemoryLLM" / "saliency.py")
    inputs = keras.Input(shape=(LOOKBACK, FEATURES))
    picked = keras.layers.Lambda(lambda x: 3 * x[:, 2, 0:1])(inputs)  # (batch, 1): day 2, feature 0
    s = keras_saliency.saliency_by_lag(keras.Model(inputs, picked), windows(), feature_index=0,
                                       batch_size=64)
    assert s["by_lag"] == pytest.approx([0, 0, 1, 0, 0, 0])
    assert s["by_lag_log_return"] == pytest.approx([0, 0, 1, 0, 0, 0])
    w = np.array([[1.0, -2, 0], [0, 0, 0], [3, 1, -1], [0, 0, 0.5], [0, 0, 0], [-4, 0, 0]])
    dense = keras.layers.Dense(1)
    linear = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([w.reshape(-1, 1), np.zeros(1)])  # Flatten: day-major, as w.reshape
    s = keras_saliency.saliency_by_lag(linear, windows(), feature_index=0, batch_size=7)
    by_day = np.abs(w).sum(axis=1)
    assert s["by_lag"] == pytest.approx((by_day / by_day.sum()).tolist())
    assert s["by_lag_log_return"] == pytest.approx([1 / 8, 0, 3 / 8, 0, 0, 4 / 8])


# ---- the patched transformer ----------------------------------------------------------------

def patched(**kwargs):
    torch.manual_seed(0)
    settings = dict(n_features=5, lookback=12, d_model=8, heads=2, dropout=0.0)
    return models.TransformerForecaster(**{**settings, **kwargs}).eval()


def test_patched_transformer_shapes_and_tokens():
    model, x = patched(patch=4, horizon=2), torch.randn(3, 12, 5)
    assert model(x).shape == (3, 2)
    _, weights = model(x, return_attention=True)
    assert weights["encoder"][0].shape == (3, 2, 3, 3)  # 12 days / 4 per token
    assert weights["cross"][0].shape == (3, 2, 2, 3)
    assert model.embed.in_features == 20 and model.encoder_position.table.shape[0] == 3
    tokens = model.patches(x)  # (batch, 3, 4 * 5): days side by side, oldest first
    assert torch.equal(tokens[:, 1, 5:10], x[:, 5])  # token 1 holds days 4..7; day 5 second
    for day, token in ((0, 0), (7, 1), (11, 2)):
        changed = x.clone()
        changed[:, day] += 1.0
        moved = (model.embed(model.patches(changed)) - model.embed(model.patches(x))).abs().sum(-1)
        assert moved[:, token].min() > 0  # that day's token moves, and no other
        assert torch.all(moved[:, [t for t in range(3) if t != token]] == 0)
    with pytest.raises(ValueError, match="multiple of patch"):
        patched(patch=5)


def test_patch_1_is_the_plain_transformer():
    """Checkpoints from before --patch load: same parameters, and a model_config without
    "patch" builds the same network."""
    plain = patched()
    explicit = patched(patch=1)
    assert {k: v.shape for k, v in plain.state_dict().items()} == \
           {k: v.shape for k, v in explicit.state_dict().items()}
    x = torch.randn(2, 12, 5)
    assert torch.equal(plain(x), explicit(x))
    old_config = dict(arch="transformer", n_features=5, lookback=12, horizon=1, dropout=0.1,
                      d_model=8, heads=2, encoder_layers=2, decoder_layers=1, ff_size=16,
                      pos_encoding="sinusoidal")
    rebuilt = models.build_model(old_config)
    rebuilt.load_state_dict(models.build_model({**old_config, "patch": 1}).state_dict())


@pytest.mark.slow
def test_bad_patch_flags(tmp_path):
    # --smoke: lookback 20. One case through run_main in a subprocess, the rest in-process.
    proc = run_script(TRAIN, "--smoke", "--patch", "7", "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "multiple of --patch 7")
    for flags, fragment in ((["--patch", "0"], "multiple of --patch 0"),
                            (["--arch", "lstm", "--patch", "4"], "for the transformer")):
        assert_user_error(TRAIN, "--smoke", *flags, "--out-dir", tmp_path, fragments=(fragment,))


@pytest.mark.slow
def test_smoke_run_with_patches(tmp_path):
    run_script(TRAIN, "--smoke", "--patch", "4", "--out-dir", tmp_path, "--run-name", "p4")
    run = tmp_path / "p4"
    m = read_json(run / "metrics.json")
    a = m["attention"]
    assert a["patch"] == 4 and read_json(run / "config.json")["patch"] == 4
    assert len(a["by_lag_mean"]) == 5 and all(len(h) == 5 for h in a["by_lag_heads"])  # 20 / 4
    assert sum(a["by_lag_mean"]) == pytest.approx(1.0, abs=1e-5)
    assert a["peak_lag"] in (-17, -13, -9, -5, -1)  # each token's newest day
    assert a["recent_days"] == 8 and a["uniform_recent_share"] == pytest.approx(2 / 5)
    s = m["saliency"]
    assert len(s["by_lag"]) == len(s["by_lag_log_return"]) == 20
    assert sum(s["by_lag"]) == pytest.approx(1.0) and sum(s["by_lag_log_return"]) == pytest.approx(1.0)
    for name in ("saliency_by_lag.png", "attention_by_lag.png", "attention_cross.png", "model.pt"):
        assert (run / name).is_file(), name
