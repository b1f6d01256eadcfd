"""Loading a file never runs code (issue 22): a crafted checkpoint or an old pickle of the
preprocessing is refused with one line and does nothing, and the safe formats round-trip
exactly (the checkpoint round trip itself is in test_runtime_files.py; that a reloaded
forecasting run predicts what it predicted before saving, in test_codellm and test_memoryllm).

The crafted files below hold an object whose unpickling calls open(marker, "w"): a harmless
stand-in for any code. Each test first shows that the project refuses it and that the marker
was not created, then that the file really was armed (an unsafe load creates the marker), so
a test cannot pass on a dud."""

from __future__ import annotations

import json
import pickle  # only to build the malicious files this module tests against

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error, run_script
from reloaded_runs import goog_dataset

from shared.prices import features, windows
from shared.runtime import files
from shared.runtime.errors import UserError


class CreatesFile:
    """Unpickling this object calls open(path, "w"), which creates `path`."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def crafted_checkpoint(path, marker):
    torch.save({"model_state": {}, "model_config": {"n_features": 20}, "step": 1,
                "payload": CreatesFile(marker)}, path)
    return path


def assert_armed_checkpoint(path, marker):
    """The positive control: an unsafe load of the same file does create the marker."""
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the unsafe load the project no longer does
    assert marker.exists()


# ---- checkpoints -----------------------------------------------------------------------------

def test_crafted_checkpoint_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = crafted_checkpoint(tmp_path / "last.pt", marker)
    with pytest.raises(UserError) as refused:
        files.load_checkpoint(path)
    message = str(refused.value)
    assert "safe load refuses" in message and "(io.open)" in message and "retrain" in message
    assert "\n" not in message
    assert not marker.exists()
    assert_armed_checkpoint(path, marker)


def test_scripts_refuse_a_crafted_checkpoint(tmp_path):
    """As a user meets it: sample.py and predict.py print one line and create nothing."""
    marker = tmp_path / "pwned"
    ckpt = crafted_checkpoint(tmp_path / "best.pt", marker)
    proc = run_script("TinyLLM/sample.py", "--checkpoint", ckpt, "--length", "5", check=False)
    assert_one_line_error(proc, "safe load refuses")
    run = tmp_path / "run"  # a forecaster run whose preprocessing is fine but model.pt is not
    run.mkdir()
    windows.save_preprocessing(goog_dataset()[1], run / windows.PREPROCESSING)
    crafted_checkpoint(run / "model.pt", marker)
    assert_one_line_error(run_script("CodeLLM/forecaster/predict.py", "--run-dir", run, check=False),
                          "safe load refuses")
    assert not marker.exists()
    assert_armed_checkpoint(ckpt, marker)


# ---- preprocessing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("script", "model_file"), [("CodeLLM/forecaster/predict.py", "model.pt"),
                                                    ("MemoryLLM/predict.py", "model.keras")])
def test_old_preprocessing_pickle_is_never_read(tmp_path, script, model_file):
    """A run folder from before the JSON format (or a planted one) gets one line: retrain."""
    marker = tmp_path / "pwned"
    run = tmp_path / "run"
    run.mkdir()
    (run / model_file).write_bytes(b"")  # load_preprocessing comes first; it must stop there
    payload = pickle.dumps({"features": features.FEATURES, "trap": CreatesFile(marker)})
    (run / "preprocessing.joblib").write_bytes(payload)  # joblib.load would unpickle this
    assert_one_line_error(run_script(script, "--run-dir", run, check=False),
                          "preprocessing.joblib, an old format", "python train.py")
    assert not marker.exists()
    pickle.loads(payload)  # the positive control: unpickling it does create the marker
    assert marker.exists()


def test_preprocessing_json_round_trip_on_real_data(tmp_path):
    """The scalers rebuilt from JSON transform GOOG's rows bit for bit as the fitted ones do."""
    frame, data = goog_dataset(lookback=20, horizon=3)
    (tmp_path / "model.pt").write_bytes(b"")
    windows.save_preprocessing(data, tmp_path / windows.PREPROCESSING)
    prep = windows.load_preprocessing(tmp_path, "model.pt")
    assert (prep["features"], prep["lookback"], prep["target"], prep["horizon"]) == \
        (features.FEATURES, 20, "return", 3)
    rows = frame[features.FEATURES].to_numpy(dtype=np.float64)
    assert np.array_equal(prep["feature_scaler"].transform(rows), data.feature_scaler.transform(rows))
    assert np.array_equal(windows.latest_window(frame, prep["feature_scaler"], prep["features"], 20),
                          windows.latest_window(frame, data.feature_scaler, data.features, 20))
    y = np.random.default_rng(0).normal(size=(len(data.test.y), 3))
    assert np.array_equal(windows.to_price(y, data.test.prev_close, prep["target_scaler"], "return"),
                          data.to_price(y, data.test))
    # Plain data: the numbers are readable, e.g. the first feature's mean over the training rows.
    state = json.loads((tmp_path / windows.PREPROCESSING).read_text())
    assert state["feature_scaler"]["mean"][0] == data.feature_scaler.mean_[0]


def test_bad_preprocessing_files_are_one_line_errors(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(UserError, match="no preprocessing.json"):
        windows.load_preprocessing(tmp_path, "model.pt")
    path = tmp_path / windows.PREPROCESSING
    windows.save_preprocessing(goog_dataset()[1], path)
    good = json.loads(path.read_text())
    for broken in ({**good, "format": 99}, {k: v for k, v in good.items() if k != "target_scaler"},
                   {**good, "feature_scaler": {**good["feature_scaler"], "scale": [1.0]}}):
        path.write_text(json.dumps(broken))
        with pytest.raises(UserError, match="not a preprocessing file this version writes"):
            windows.load_preprocessing(tmp_path, "model.pt")
    path.write_text("{not json")
    with pytest.raises(UserError, match="not a preprocessing file"):
        windows.load_preprocessing(tmp_path, "model.pt")
    path.write_text(json.dumps({**good, "features": good["features"][:-1]}))
    with pytest.raises(UserError, match="different feature set"):
        windows.load_preprocessing(tmp_path, "model.pt")
    path.write_text(json.dumps({**good, "feature_scaler": {k: v[:-1] if isinstance(v, list) else v
                                                           for k, v in good["feature_scaler"].items()}}))
    with pytest.raises(UserError, match="has a feature scaler for 19 features, not 20"):
        windows.load_preprocessing(tmp_path, "model.pt")
