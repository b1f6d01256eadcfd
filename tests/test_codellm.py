"""CodeLLM: the transformer's mechanics (shapes, causal mask, attention, positions), then
train.py and predict.py as a user runs them, in subprocesses with --smoke (compare.py: see
test_compare.py)."""

import math

import pandas as pd
import pytest
import torch
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script
from reloaded_runs import assert_reloaded_run_predicts

from CodeLLM import blocks

from shared.prices import features, market
from shared.runtime import files

from tools.loader import load_stage_config

TRAIN, PREDICT = "CodeLLM/forecaster/train.py", "CodeLLM/forecaster/predict.py"
models = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "model.py")  # by path: stages share module names


def transformer(**kwargs):
    settings = dict(n_features=5, lookback=12, d_model=8, heads=2, encoder_layers=2,
                    decoder_layers=2, ff_size=16, dropout=0.0)
    torch.manual_seed(0)
    return models.TransformerForecaster(**{**settings, **kwargs}).eval()


@pytest.mark.parametrize("horizon", [1, 3, 7])
def test_output_shapes_for_several_horizons(horizon):
    x = torch.randn(4, 12, 5)
    for model in (transformer(horizon=horizon), models.LSTMForecaster(5, horizon, units=8).eval()):
        assert model(x).shape == (4, horizon)  # forecasting: its own steps fed back
        assert model(x, targets=torch.randn(4, horizon)).shape == (4, horizon)  # teacher forcing


def test_causal_mask_hides_later_decoder_inputs():
    model, x = transformer(horizon=5), torch.randn(2, 12, 5)
    targets = torch.randn(2, 5)
    changed = targets.clone()
    changed[:, 3] += 10.0  # the true value of step 4: decoder input of step 5 only
    before, after = model(x, targets=targets), model(x, targets=changed)
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-6)
    assert not torch.allclose(before[:, 4], after[:, 4])
    assert blocks.causal_mask(3).tolist() == [[True, False, False], [True, True, False],
                                              [True, True, True]]


def test_teacher_forcing_equals_feeding_back_its_own_forecasts():
    """Given its own forecasts as the 'true' previous steps, the parallel pass must reproduce
    the step-by-step forecast exactly: the two code paths compute the same thing."""
    model, x = transformer(horizon=4), torch.randn(3, 12, 5)
    own = model(x)
    assert torch.allclose(model(x, targets=own), own, atol=1e-5)


def test_attention_weights_are_distributions():
    model = transformer(horizon=3)
    _, weights = model(torch.randn(4, 12, 5), return_attention=True)
    assert len(weights["encoder"]) == 2 and weights["encoder"][0].shape == (4, 2, 12, 12)
    assert weights["cross"][0].shape == (4, 2, 3, 12)
    for w in [*weights["encoder"], *weights["cross"]]:
        assert torch.all(w >= 0)
        assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5)


def test_positional_encoding_breaks_permutation_invariance():
    x = torch.randn(2, 12, 5)
    shuffled = x[:, torch.randperm(12, generator=torch.Generator().manual_seed(1))]
    blind = transformer(pos_encoding="none")
    # Without positions, encoder self-attention is permutation-equivariant and the decoder's
    # weighted sums over the window cannot tell the orders apart.
    assert torch.allclose(blind(x), blind(shuffled), atol=1e-5)
    for kind in ("sinusoidal", "learned"):
        model = transformer(pos_encoding=kind)
        if kind == "learned":  # trained tables start near zero; make them matter
            torch.nn.init.normal_(model.encoder_position.table, std=1.0)
        assert not torch.allclose(model(x), model(shuffled), atol=1e-4)


def test_sinusoidal_table_values():
    table = blocks.SinusoidalEncoding(10, 6).table
    assert table[0].tolist() == pytest.approx([0, 1, 0, 1, 0, 1])
    assert table[3, 0].item() == pytest.approx(math.sin(3))
    assert table[3, 3].item() == pytest.approx(math.cos(3 / 10000 ** (2 / 6)), abs=1e-6)


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match="not divisible"):
        blocks.MultiHeadAttention(10, 3)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("codellm")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "smoke")
    return out / "smoke", proc


@pytest.mark.slow
def test_smoke_writes_every_artifact(smoke_run):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "predictions.csv",
                 "predictions.png", "loss_curve.png", "model.pt", "preprocessing.json",
                 "attention_by_lag.png", "attention_cross.png", "attention_encoder.png",
                 "saliency_by_lag.png"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    for key in ("test_rmse_mean", "test_theil_u_mean", "params", "seconds_per_epoch",
                "latency_ms_mean", "seconds_to_best_mean"):
        assert math.isfinite(m[key]) and m[key] > 0, key
    assert m["test_end"] == "2013-03-01" and m["model"] == "transformer"
    r = m["recipe"]  # the transformer keeps its own recipe (tests/test_recipes.py)
    assert (r["optimizer"], r["warmup_steps"], r["grad_clip"], r["dropout"]) == ("AdamW", 50, 1.0, 0.1)
    assert read_json(run / "config.json")["dropout"] == 0.1  # the value the run resolved
    a = m["attention"]
    assert sum(a["by_lag_mean"]) == pytest.approx(1.0, abs=1e-5)  # the lookback of --smoke
    assert len(a["by_lag_mean"]) == read_json(run / "config.json")["lookback"] == 20
    assert a["patch"] == 1 and a["recent_days"] == 5  # one token per day, as before --patch
    s = m["saliency"]  # gradient saliency by lag (tests/test_saliency.py checks its numbers)
    assert len(s["by_lag"]) == 20 and sum(s["by_lag"]) == pytest.approx(1.0)
    preds = pd.read_csv(run / "predictions.csv")
    assert len(preds) == m["test_days"] and list(preds.columns[-1:]) == ["seed_42"]
    assert "Theil's U" in proc.stdout


@pytest.mark.slow
def test_smoke_writes_live_curves(smoke_run):
    """One events file per run, a curve per seed: the train and validation loss and the
    learning rate of each epoch, as history.json keeps them."""
    from test_memoryllm import curves

    run, _ = smoke_run
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 1
    found, history = curves(run / "tensorboard"), read_json(run / "history.json")["seeds"][0]
    assert set(found) == {"loss/train/seed-42", "loss/val/seed-42", "lr/seed-42"}
    for tag, key in (("loss/train", "loss"), ("loss/val", "val_loss"), ("lr", "lr")):
        assert [step for step, _ in found[f"{tag}/seed-42"]] == [1, 2]  # epochs, as the loss curve
        assert [value for _, value in found[f"{tag}/seed-42"]] == pytest.approx(history[key], rel=1e-6)


@pytest.mark.slow
def test_predict_loads_the_saved_model(smoke_run, tmp_path):
    run, _ = smoke_run
    lines = run_script(PREDICT, "--run-dir", run, "--days", "2").stdout.strip().splitlines()
    assert lines[0].startswith("last day in the data: 2013-03-01")
    assert lines[1].startswith("2013-03-04  forecast close")
    assert 500 < float(lines[2].split()[-1]) < 1200
    # The saved model.pt and preprocessing.json give the forecasts the run made in memory, and
    # the next day's forecast above (tests/reloaded_runs.py).
    model_py = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "model.py")
    checkpoint = files.load_checkpoint(run / "model.pt")
    model = model_py.build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])
    model.eval()

    def predict(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()
    assert_reloaded_run_predicts(run, "model.pt", predict, lines[1])
    assert_one_line_error(run_script(PREDICT, "--run-dir", tmp_path, check=False),
                          "no model.pt")
    assert_user_error(PREDICT, "--run-dir", run, "--days", "0", fragments=("--days must be at least 1",))


@pytest.mark.slow
def test_multi_step_training_and_prediction(tmp_path):
    run_script(TRAIN, "--smoke", "--horizon", "3", "--arch", "lstm", "--out-dir", tmp_path,
               "--run-name", "h3", "--no-tensorboard")
    assert not (tmp_path / "h3" / "tensorboard").exists()  # --no-tensorboard: no live curves
    m = read_json(tmp_path / "h3" / "metrics.json")
    by_step = m["per_seed"][0]["test_rmse_by_step"]
    assert len(by_step) == 3 and by_step[0] == pytest.approx(m["test_rmse_mean"])
    assert len(m["baselines"]["persistence"]["test_rmse_by_step"]) == 3
    r = m["recipe"]  # the control trains with stage 3's Keras recipe
    assert (r["optimizer"], r["adam_epsilon"], r["weight_decay"], r["warmup_steps"],
            r["grad_clip"], r["dropout"]) == ("Adam", 1e-7, 0.0, 0, None, 0.2)
    # Keras's count: one bias per gate (bias_hh is frozen at 0); --smoke: 8 units, dense 4.
    n = len(features.FEATURES)
    assert m["params"] == 4 * 8 * (n + 8 + 1) + (8 * 4 + 4) + (4 * 3 + 3)
    out = run_script(PREDICT, "--run-dir", tmp_path / "h3").stdout  # default: the horizon
    assert out.count("forecast close") == 3 and "uncertainty" not in out


@pytest.mark.slow
def test_bad_inputs(tmp_path):
    prices = market.load_prices().reset_index()
    prices.iloc[:400].to_csv(tmp_path / "short.csv", index=False)
    # One case through run_main in a subprocess (one line, exit status 2), the rest in-process.
    proc = run_script(TRAIN, "--smoke", "--csv", tmp_path / "short.csv", "--lookback", "300",
                      "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "too short")
    for flags, fragment in (
        (["--csv", tmp_path / "short.csv", "--horizon", "150"], "--horizon"),
        (["--horizon", "0"], "at least 1"),
        (["--d-model", "10", "--heads", "4"], "multiple of --heads"),
        (["--ticker", "TSLA"], "not in the bundled data"),
    ):
        assert_user_error(TRAIN, "--smoke", *flags, "--out-dir", tmp_path, fragments=(fragment,))
