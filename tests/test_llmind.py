"""LLMind: the grouped stratified split, the CSV loader and label mapping, both baselines on a
tiny set, a smoke fine-tune that predict.py then loads, and the promised one-line errors."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_one_line_error, read_json, run_script

from shared.config import load_stage_config
from shared.errors import UserError

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
TRAIN, PREDICT = "LLMind/train.py", "LLMind/predict.py"
data = load_stage_config(ROOT / "LLMind" / "data.py")

GOOD = ["a wonderful, moving film", "brilliant acting and a great story", "funny, warm and smart",
        "a delightful surprise", "beautifully shot and deeply felt", "one of the best films this year"]
BAD = ["a dull, tedious mess", "boring and far too long", "the worst script in years",
       "lifeless, clumsy and stupid", "an awful waste of a good cast", "painfully unfunny"]


def sentences(n_per_label: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(f"{rng.choice(words)} {i}", label) for label, words in (("pos", GOOD), ("neg", BAD))
            for i in range(n_per_label)]
    return pd.DataFrame(rows, columns=["review", "sentiment"])


@pytest.fixture(scope="module")
def bundled():
    return data.load_bundled()


def test_bundled_corpus_drops_plot_rows(bundled):
    assert set(bundled["label"]) == {"fresh", "rotten"}
    assert len(bundled) == 7403 + 5405
    assert bundled["text"].str.len().min() > 0


def test_split_is_stratified_and_grouped_by_movie(bundled):
    parts = data.split(bundled, seed=42)
    assert sum(len(p) for p in parts.values()) == len(bundled)
    movies = {name: set(p["group"]) for name, p in parts.items()}
    assert not movies["train"] & movies["validation"]
    assert not movies["train"] & movies["test"]
    assert not movies["validation"] & movies["test"]
    fresh = (bundled["label"] == "fresh").mean()
    for part in parts.values():
        assert (part["label"] == "fresh").mean() == pytest.approx(fresh, abs=0.03)
    shares = {name: len(p) / len(bundled) for name, p in parts.items()}
    assert shares["test"] == pytest.approx(0.2, abs=0.03)
    assert shares["validation"] == pytest.approx(0.1, abs=0.03)
    again = data.split(bundled, seed=42)
    assert again["test"]["text"].tolist() == parts["test"]["text"].tolist()  # fixed split


def test_cap_keeps_every_label(bundled):
    capped = data.cap(bundled, 50, seed=1)
    assert len(capped) == 50 and set(capped["label"]) == {"fresh", "rotten"}
    assert data.cap(bundled, 0, seed=1) is bundled


def test_csv_loader_and_label_map(tmp_path):
    path = tmp_path / "mine.csv"
    frame = sentences(20)
    frame["sentiment"] = frame["sentiment"].replace({"pos": "positive", "neg": "negative"})
    frame.to_csv(path, index=False)
    loaded = data.load_csv(path, "review", "sentiment")
    assert list(loaded.columns) == ["text", "label", "group"]
    assert loaded["group"].nunique() == len(loaded)  # no group column: every row its own group
    labels = data.LabelMap(loaded["label"])
    assert labels.names == ["negative", "positive"]
    assert labels.encode(["positive", "negative"]).tolist() == [1, 0]
    assert labels.decode([0, 1]) == ["negative", "positive"]
    with pytest.raises(UserError, match="'neutral' that the model does not know"):
        labels.encode(["neutral"])
    parts = data.split(loaded, seed=0)
    assert all(set(p["label"]) == {"negative", "positive"} for p in parts.values())


@pytest.mark.parametrize("rows, kwargs, message", [
    ({"text": ["a", "b"], "label": ["x", "y"]}, {"label_column": "stars"}, "no column 'stars'"),
    ({"text": ["a", "b", "c"], "label": ["x", "x", "x"]}, {}, "a classifier needs at least two"),
    ({"text": ["a", " ", "c"], "label": ["x", "y", "x"]}, {}, "1 empty text(s)"),
    ({"text": ["a", "b", "c"], "label": ["x", "", "y"]}, {}, "without a label"),
])
def test_csv_loader_errors(tmp_path, rows, kwargs, message):
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        data.load_csv(path, **kwargs)


def test_too_small_to_split():
    frame = pd.DataFrame({"text": list("abcdefgh"), "label": ["x", "y"] * 4, "group": list("abcdefgh")})
    with pytest.raises(UserError, match="too few examples to split"):
        data.split(frame)


@pytest.fixture(scope="module")
def tiny_splits():
    frame = sentences(30).rename(columns={"review": "text", "sentiment": "label"})
    frame["group"] = np.arange(len(frame)).astype(str)
    parts = data.split(frame, seed=0)
    labels = data.LabelMap(parts["train"]["label"])
    texts = {name: p["text"].tolist() for name, p in parts.items()}
    y = {name: labels.encode(p["label"]) for name, p in parts.items()}
    return texts, y, labels.names


def test_tfidf_baseline_on_a_tiny_set(tiny_splits, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    baselines = load_stage_config(ROOT / "LLMind" / "baselines.py")
    result = baselines.tfidf_logreg(*tiny_splits)
    assert result["test_accuracy"] == 1.0 and result["test_macro_f1"] == 1.0
    assert np.asarray(result["test_confusion"]).sum() == len(tiny_splits[0]["test"])
    assert result["C"] in baselines.C_GRID


def test_frozen_encoder_baseline_on_a_tiny_set(tiny_splits, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    baselines = load_stage_config(ROOT / "LLMind" / "baselines.py")
    result = baselines.frozen_encoder_logreg(*tiny_splits, model="bundled", max_length=32)
    # Obvious sentiment words: pretrained sentence embeddings separate them with a linear model.
    assert result["test_accuracy"] >= 0.9
    assert result["features"] == 384
    assert set(result["test_report"]) >= {"neg", "pos", "macro avg"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("llmind")
    # The default trains every layer; freezing the lower four is exercised here.
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--freeze-layers", "4")
    return out / "smoke", proc


@pytest.mark.slow
def test_smoke_fine_tune_writes_every_artifact(smoke_run):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "confusion.png", "validation.png",
                 "model/config.json", "model/model.safetensors", "model/tokenizer.json"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    assert m["labels"] == ["fresh", "rotten"] and m["train_sentences"] == 96
    assert m["test_sentences"] == 64 and m["epochs_run"] == 1
    for key in ("test_accuracy", "test_macro_f1", "val_macro_f1"):
        assert 0 <= m[key] <= 1, key
    assert m["train_seconds"] > 0 and 0 < m["params_trained"] < m["params"]
    assert set(m["baselines"]) == {"tfidf_logreg", "frozen_encoder_logreg", "tfidf_logreg_full_train"}
    assert set(m["test_report"]) >= {"fresh", "rotten", "macro avg"}
    assert np.asarray(m["test_confusion"]).sum() == 64
    assert "fine-tuned: test accuracy" in proc.stdout
    assert list((run / "checkpoints").glob("checkpoint-*"))  # what --resume continues from


@pytest.mark.slow
def test_predict_loads_the_smoke_model(smoke_run, tmp_path):
    run, _ = smoke_run
    proc = run_script(PREDICT, "--model-dir", run / "model", "A gorgeous, heartfelt film.",
                      "Two hours I will never get back.")
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        label, probability, _ = line.split("\t")
        assert label in {"fresh", "rotten"} and 0.5 <= float(probability) <= 1
    csv = tmp_path / "labelled.csv"
    pd.DataFrame({"text": ["great", "awful"], "label": ["fresh", "meh"]}).to_csv(csv, index=False)
    proc = run_script(PREDICT, "--model-dir", run / "model", "--file", csv, "--label-column", "label",
                      check=False)
    assert_one_line_error(proc, "'meh' that the model does not know")


@pytest.mark.slow
def test_bad_inputs_are_one_line_errors(tmp_path, smoke_run):
    missing = tmp_path / "missing.csv"
    pd.DataFrame({"review": ["a"] * 40, "label": ["x", "y"] * 20}).to_csv(missing, index=False)
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--data", missing, check=False)
    assert_one_line_error(proc, "no column 'text'", "--text-column")
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--model", tmp_path, check=False)
    assert_one_line_error(proc, "is not a model folder")
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--model", "nobody/no-such-model",
                      check=False)
    assert_one_line_error(proc, "Hugging Face hub", "--model bundled")
    proc = run_script(PREDICT, "--model-dir", tmp_path, "some sentence", check=False)
    assert_one_line_error(proc, "is not a model folder")
    model_dir = smoke_run[0] / "model"
    proc = run_script(PREDICT, "--model-dir", model_dir, "--file", missing, "--label-column",
                      "label", check=False)
    assert_one_line_error(proc, "--file", "no column 'text'")
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--run-name", "fresh", "--resume",
                      check=False)
    assert_one_line_error(proc, "no checkpoint")


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(smoke_run, tmp_path):
    """One smoke epoch, then --resume with --epochs 2: the Trainer picks up at the saved step
    (not from scratch), and the speed counts only the epoch this invocation trained."""
    run, _ = smoke_run
    shutil.copytree(run, tmp_path / "smoke")
    first = read_json(run / "metrics.json")
    proc = run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--resume", "--epochs", "2",
                      "--freeze-layers", "4")
    m = read_json(tmp_path / "smoke" / "metrics.json")
    assert m["resumed"] and m["epochs_run"] == 2
    evals = [e["epoch"] for e in read_json(tmp_path / "smoke" / "history.json")["log"]
             if "eval_macro_f1" in e]
    assert evals == [1, 2]  # epoch 1 comes from the checkpoint's log, epoch 2 is new
    assert m["train_sentences_per_second"] == pytest.approx(96 / m["train_seconds"], rel=1e-6)
    steps = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "smoke" / "checkpoints").glob("c*"))
    assert steps[-1] == 2 * 6 and first["epochs_run"] == 1  # 96 sentences / 16 a batch = 6 steps
    assert "fine-tuned: test accuracy" in proc.stdout


def test_tokenizer_quest_coverage_numbers(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "LLMind"))
    quest = load_stage_config(ROOT / "LLMind" / "tokenizer_quest.py")
    tokenizer = quest.train_wordpiece(["the film is good", "the film is bad"] * 20, vocab_size=60)
    assert tokenizer.encode("the film", add_special_tokens=False).tokens == ["the", "film"]
    splits = {"good": ["good"], "goodness": ["good", "##ness"], "zzz": ["[UNK]"]}
    c = quest.coverage(["good", "good", "goodness", "zzz"], splits.__getitem__)
    assert c["whole_word_share_running"] == 0.5  # good, good of 4 running words
    assert c["whole_word_share_distinct"] == pytest.approx(1 / 3)
    assert c["pieces_per_word"] == 5 / 4 and c["unknown_per_word"] == 1 / 4


def test_readme_results_match_the_reference_run():
    report = load_stage_config(ROOT / "LLMind" / "report.py")
    assert report.main(["--check"]) == 0
