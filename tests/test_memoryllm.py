"""MemoryLLM as a user runs it: train.py and predict.py in subprocesses, with --smoke."""

import json
import math
import shutil

import pytest
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script
from reloaded_runs import assert_reloaded_run_predicts

from shared.prices import market

from tools.loader import load_stage_config

TRAIN, PREDICT = "MemoryLLM/train.py", "MemoryLLM/predict.py"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("memoryllm")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "smoke")
    return out / "smoke", proc


def test_smoke_writes_every_artifact(smoke_run):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "predictions.png",
                 "loss_curve.png", "model.keras", "preprocessing.json", "saliency_by_lag.png"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    for key in ("test_rmse_mean", "test_mape_mean", "test_theil_u_mean", "params",
                "seconds_per_epoch"):
        assert math.isfinite(m[key]) and m[key] > 0, key
    assert set(m["baselines"]) == {"persistence", "drift", "ridge"}
    assert len(m["per_seed"]) == m["seeds"] == 1
    assert m["test_end"] == "2013-03-01"
    s = m["saliency"]  # gradient saliency by lag, as stage 4's (tests/test_saliency.py)
    assert len(s["by_lag"]) == len(s["by_lag_log_return"]) == 20  # the --smoke lookback
    assert sum(s["by_lag"]) == pytest.approx(1.0) and sum(s["by_lag_log_return"]) == pytest.approx(1.0)
    # The recipe metrics.json records is the one the PyTorch control trains with under --smoke.
    code = load_stage_config(ROOT / "CodeLLM" / "forecaster" / "config.py")
    control = code.ForecastConfig(arch="lstm", **code.SMOKE_OVERRIDES).recipe()
    assert m["recipe"] == control and m["recipe"]["early_stopping_patience"] == 1
    assert "Theil's U" in proc.stdout


def curves(folder) -> dict[str, list[tuple[int, float]]]:
    """Every curve in a TensorBoard events folder: {tag: [(step, value), ...]}. Keras's callback
    writes its values as tensors, torch's writer as scalars: both are read."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    events = EventAccumulator(str(folder))
    events.Reload()
    found = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    for tag in events.Tags()["tensors"]:
        found[tag] = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]
    return found


def test_smoke_writes_live_curves(smoke_run):
    """Keras's TensorBoard callback, one folder per seed: each epoch's train and validation loss,
    the numbers history.json keeps. (compare.py's smoke run passes --no-tensorboard and checks
    that none are written: tests/test_compare.py.)"""
    run, _ = smoke_run
    history = read_json(run / "history.json")["seeds"][0]
    for split, key in (("train", "loss"), ("validation", "val_loss")):
        folder = run / "tensorboard" / "seed-42" / split
        assert list(folder.glob("events.out.tfevents.*")), split
        found = curves(folder)
        assert [step for step, _ in found["epoch_loss"]] == [0, 1]  # --smoke: 2 epochs
        assert [value for _, value in found["epoch_loss"]] == pytest.approx(history[key], rel=1e-6)


@pytest.fixture(scope="module")
def next_days(smoke_run):
    """What `predict.py --days 2` prints for the smoke run."""
    return run_script(PREDICT, "--run-dir", smoke_run[0], "--days", "2").stdout


def test_predict_next_business_days(next_days):
    lines = next_days.strip().splitlines()
    assert lines[0].startswith("last day in the data: 2013-03-01")  # a Friday
    assert lines[1].startswith("2013-03-04  forecast close")  # the next business day
    assert lines[2].startswith("2013-03-05  forecast close")
    assert "uncertainty" in next_days
    assert 500 < float(lines[1].split()[-1]) < 1200


def test_reloaded_run_predicts_what_training_predicted(smoke_run, next_days):
    """The saved model.keras and preprocessing.json give the forecasts the run made in memory
    (tests/reloaded_runs.py), and predict.py's forecast for the next day."""
    keras = pytest.importorskip("keras")
    load_stage_config(ROOT / "MemoryLLM" / "model.py")  # registers its attention layer
    model = keras.saving.load_model(smoke_run[0] / "model.keras", safe_mode=True)
    assert_reloaded_run_predicts(smoke_run[0], "model.keras", lambda x: model.predict(x, verbose=0),
                                 next_days.strip().splitlines()[1])


def test_predict_refuses_another_feature_set(smoke_run, tmp_path):
    run, _ = smoke_run
    copy = tmp_path / "other"
    shutil.copytree(run, copy)
    prep = json.loads((copy / "preprocessing.json").read_text(encoding="utf-8"))
    prep["features"] = prep["features"][:-1]  # a run trained on one feature fewer
    for stat in ("mean", "scale", "var"):
        prep["feature_scaler"][stat] = prep["feature_scaler"][stat][:-1]
    (copy / "preprocessing.json").write_text(json.dumps(prep), encoding="utf-8")
    assert_one_line_error(run_script(PREDICT, "--run-dir", copy, check=False),
                          "different feature set")
    assert_user_error(PREDICT, "--run-dir", tmp_path / "none", fragments=("no model.keras",))


def test_bad_price_files(tmp_path):
    (tmp_path / "cols.csv").write_text("Date,Close\n2020-01-02,1\n", encoding="utf-8")
    assert_user_error(TRAIN, "--smoke", "--csv", tmp_path / "cols.csv", "--out-dir", tmp_path,
                      fragments=("missing column",))
    prices = market.load_prices().reset_index()
    prices.iloc[:120].to_csv(tmp_path / "short.csv", index=False)
    assert_user_error(TRAIN, "--smoke", "--csv", tmp_path / "short.csv", "--out-dir", tmp_path,
                      fragments=("too short",))
    broken = prices.copy()
    broken.loc[10, "close"] = None
    broken.to_csv(tmp_path / "nan.csv", index=False)
    assert_user_error(TRAIN, "--smoke", "--csv", tmp_path / "nan.csv", "--out-dir", tmp_path,
                      fragments=("line(s) [12]",))
    assert_user_error(TRAIN, "--smoke", "--ticker", "TSLA", "--out-dir", tmp_path,
                      fragments=("not in the bundled data",))


def test_device_gpu_without_a_gpu_is_one_line(tmp_path):
    """The tests hide every GPU, so --device gpu must refuse at once, before any data loads."""
    proc = run_script(TRAIN, "--smoke", "--device", "gpu", "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "--device gpu", "no GPU")
    assert not list(tmp_path.iterdir())
