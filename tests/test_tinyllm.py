"""TinyLLM as a user runs it: train.py and sample.py in subprocesses, with --smoke."""

import math
import signal
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT, assert_one_line_error, assert_user_error, call_main, read_json, run_script
from tensorboard_events import scalars

from shared.lm import loop, scoring, text, tokens
from shared.runtime import devices, files, parallel

from tools.loader import load_stage_config

TRAIN, SAMPLE = "TinyLLM/train.py", "TinyLLM/sample.py"
tiny_model = load_stage_config(ROOT / "TinyLLM" / "model.py")  # by path: stages share names
tiny_config = load_stage_config(ROOT / "TinyLLM" / "config.py")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tinyllm")
    proc = run_script(TRAIN, "--smoke", "--out-dir", out, "--run-name", "smoke")
    return out / "smoke", proc


def test_smoke_writes_every_artifact_and_beats_uniform(smoke_run):
    run, proc = smoke_run
    for name in ("config.json", "metrics.json", "history.json", "loss_curve.png", "sample.txt",
                 "best.pt", "last.pt"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    for key in ("val_loss", "test_loss", "params", "train_seconds", "tokens_per_second"):
        assert math.isfinite(m[key]) and m[key] > 0, key
    assert m["test_loss"] < m["test_uniform_loss"] - 0.5  # it learned something in 60 steps
    assert m["test_bits_per_char"] == pytest.approx(m["test_loss"] / math.log(2))
    # Every character of the validation and test text is scored.
    parts = text.splits("tiny")
    assert m["val_chars"] == m["val_tokens"] == len(parts.validation)
    assert m["test_chars"] == m["test_tokens"] == len(parts.test)
    assert m["test_text_sha256"] == scoring.fingerprint(parts.test)
    assert len(m["test_block_nats"]) == math.ceil(m["test_chars"] / m["test_block_chars"])
    assert sum(m["test_block_nats"]) == pytest.approx(m["test_loss"] * m["test_chars"], rel=1e-6)
    assert sum(m["test_bigram_counts_block_nats"]) == pytest.approx(
        m["test_bigram_counts_loss"] * m["test_chars"], rel=1e-6)
    assert m["steps"] == 60 and m["model"] == "gru"  # the default rung
    assert all(math.isfinite(x) for x in read_json(run / "history.json")["train_loss"])
    assert read_json(run / "config.json")["smoke"] is True
    assert "val loss" in proc.stdout and "sample (temperature" in proc.stdout


def test_test_text_is_scored_with_the_checkpoint_validation_chose(smoke_run):
    """best.pt is the step of the lowest interval validation loss, and rescoring it on the
    test text, by the same protocol, gives the test numbers of metrics.json."""
    run, _ = smoke_run
    m, history = read_json(run / "metrics.json"), read_json(run / "history.json")
    best_eval = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
    checkpoint = files.load_checkpoint(run / "best.pt")
    assert checkpoint["step"] == m["best_step"] == history["val_step"][best_eval]
    config = read_json(run / "config.json")
    model = tiny_model.build_model(checkpoint["model_config"])
    model.load_state_dict(checkpoint["model"])
    data = tokens.character_data(SimpleNamespace(**config))
    nats, n = scoring.evaluate(model, data.test_ids, config["seq_len"], "cpu")
    assert n == m["test_tokens"] and nats / n == pytest.approx(m["test_loss"], rel=1e-6)


def test_sample_from_checkpoint(smoke_run, capsys):
    run, _ = smoke_run
    proc = run_script(SAMPLE, "--checkpoint", run / "best.pt", "--prompt", "KING:",
                      "--length", "80", "--top-k", "10", "--seed", "3")
    assert proc.stdout.startswith("KING:")
    assert len(proc.stdout.rstrip("\n")) >= len("KING:") + 60  # 80 chars, minus trailing newlines
    # same seed, same text (here called in this process: nothing else decides the text)
    call_main(SAMPLE, "--checkpoint", run / "best.pt", "--prompt", "KING:", "--length", "80", "--top-k",
              "10", "--seed", "3")
    assert capsys.readouterr().out == proc.stdout
    # `cd TinyLLM && python sample.py` works as well as running it from the repository root.
    inside = run_script(SAMPLE, "--checkpoint", run / "best.pt", "--prompt", "KING:",
                        "--length", "80", "--top-k", "10", "--seed", "3", cwd=ROOT / "TinyLLM")
    assert inside.stdout == proc.stdout


def test_train_py_loop_matches_the_shared_loop(tmp_path):
    """Stage 1 keeps its training loop in train.py for the learner; stage 2 and the mini-GPT
    run the same loop from shared/lm/loop.py (`fit`). The same settings must give the same losses,
    to the last digit, so that the two copies cannot drift apart."""
    settings = ["--max-steps", "20", "--eval-interval", "10", "--threads", "1", "--device", "cpu"]
    run_script(TRAIN, "--smoke", *settings, "--out-dir", tmp_path, "--run-name", "own",
               cwd=ROOT / "TinyLLM")  # `cd TinyLLM && python train.py` works too
    cfg = tiny_config.TinyConfig(**{**tiny_config.SMOKE_OVERRIDES, "max_steps": 20,
                                    "eval_interval": 10, "threads": 1, "device": "cpu",
                                    "out_dir": str(tmp_path), "run_name": "shared"})
    threads = torch.get_num_threads()
    try:  # what train.py does before its loop, then shared.lm.loop.fit's loop
        rt = parallel.setup(cfg)
        data = tokens.character_data(cfg)
        model_config = cfg.model_config(len(data.vocab))
        devices.seed_everything(cfg.seed)
        model = tiny_model.build_model(model_config)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        run = loop.fit(model, optimizer, data.train_ids, data.val_ids, cfg, tmp_path / "shared",
                       {"model_config": model_config, "vocab": data.vocab.chars}, None, rt)
    finally:
        torch.set_num_threads(threads)
    assert run["history"] == read_json(tmp_path / "own" / "history.json")
    own = files.load_checkpoint(tmp_path / "own" / "best.pt")["model"]
    shared = files.load_checkpoint(tmp_path / "shared" / "best.pt")["model"]
    assert all(torch.equal(own[k], shared[k]) for k in own)
    # Both copies write the same live curves (TensorBoard event files), and they are the history
    curves = scalars(tmp_path / "own")
    assert curves == scalars(tmp_path / "shared")
    assert set(curves) == {"loss/train", "learning_rate", "loss/val", "bits_per_token/val"}
    history = run["history"]
    assert [step for step, _ in curves["loss/train"]] == history["step"] == list(range(1, 21))
    assert [v for _, v in curves["loss/train"]] == pytest.approx(history["train_loss"], abs=1e-5)
    assert [step for step, _ in curves["loss/val"]] == history["val_step"] == [10, 20]
    assert [v for _, v in curves["loss/val"]] == pytest.approx(history["val_loss"], abs=1e-5)
    assert [v for _, v in curves["bits_per_token/val"]] == pytest.approx(
        [v / math.log(2) for v in history["val_loss"]], abs=1e-4)
    assert curves["learning_rate"][-1][1] < max(v for _, v in curves["learning_rate"])  # it decays


@pytest.mark.parametrize("model", ["bigram", "rnn", "lstm"])  # the GRU is the smoke run's
def test_other_rungs_of_the_ladder_train(tmp_path, model):
    run_script(TRAIN, "--smoke", "--model", model, "--max-steps", "20", "--out-dir", tmp_path)
    m = read_json(tmp_path / f"smoke-{model}" / "metrics.json")
    assert m["model"] == model and m["test_loss"] < m["test_uniform_loss"]


def test_same_seed_same_loss(smoke_run, tmp_path):
    """The smoke run again, without live curves: the same losses, and no tensorboard folder."""
    run, _ = smoke_run
    run_script(TRAIN, "--smoke", "--out-dir", tmp_path, "--run-name", "b", "--no-tensorboard")
    a, b = read_json(run / "metrics.json"), read_json(tmp_path / "b" / "metrics.json")
    assert a["val_loss"] == b["val_loss"]
    assert read_json(run / "history.json")["train_loss"] == \
        read_json(tmp_path / "b" / "history.json")["train_loss"]
    # Live curves change nothing but a folder: --no-tensorboard writes none
    assert len(scalars(run)["loss/train"]) == a["steps"]
    assert not (tmp_path / "b" / "tensorboard").exists()


def test_ctrl_c_saves_and_resume_matches_an_uninterrupted_run(tmp_path):
    # One thread: a multi-threaded reduction may add in another order when the machine is busy,
    # and this test compares the two runs to the last digits.
    common = ["--smoke", "--max-steps", "100", "--eval-interval", "20", "--threads", "1",
              "--out-dir", tmp_path]
    # A shell that starts a job in the background makes it ignore SIGINT, and children inherit
    # that; restore the default so that Python installs its KeyboardInterrupt handler.
    proc = subprocess.Popen([sys.executable, "-u", str(ROOT / TRAIN), *map(str, common),
                             "--run-name", "cut"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:  # wait for the first evaluation, then press "Ctrl-C"
        if line.startswith("step "):
            proc.send_signal(signal.SIGINT)
            break
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout
    assert "interrupted at step" in stdout
    cut_step = files.load_checkpoint(tmp_path / "cut" / "last.pt")["step"]
    assert 20 <= cut_step < 100
    resumed = run_script(TRAIN, *common, "--run-name", "cut", "--resume")
    assert f"resuming {tmp_path / 'cut'} at step {cut_step}" in resumed.stdout
    run_script(TRAIN, *common, "--run-name", "whole")
    cut, whole = (read_json(tmp_path / n / "metrics.json") for n in ("cut", "whole"))
    assert cut["steps"] == whole["steps"] == 100
    assert cut["val_loss"] == pytest.approx(whole["val_loss"], abs=1e-6)
    assert cut["test_loss"] == pytest.approx(whole["test_loss"], abs=1e-6)
    assert read_json(tmp_path / "cut" / "history.json")["train_loss"] == \
        read_json(tmp_path / "whole" / "history.json")["train_loss"]


# ---- bad input: a one-line UserError (as a subprocess, one line on stderr and exit status 2, -
# ---- in test_empty_data_file and test_missing_checkpoint_for_sample) -------------------------

def test_empty_data_file(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    proc = run_script(TRAIN, "--smoke", "--data", tmp_path / "empty.txt", "--out-dir", tmp_path,
                      check=False)
    assert_one_line_error(proc, "empty")


def test_non_utf8_data_file(tmp_path):
    (tmp_path / "latin.txt").write_bytes("Ma\xf1ana ser\xe1 otro d\xeda. ".encode("latin-1") * 50)
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "latin.txt", "--out-dir", tmp_path,
                      fragments=("not UTF-8",))


def test_text_shorter_than_sequence(tmp_path):
    (tmp_path / "short.txt").write_text("To be, or not to be.\n", encoding="utf-8")
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "short.txt", "--out-dir", tmp_path,
                      fragments=("21 characters", "--seq-len"))
    # Long enough for one batch of training, but its validation 10% is shorter than --seq-len.
    (tmp_path / "medium.txt").write_text("abcdefghij" * 60, encoding="utf-8")
    assert_user_error(TRAIN, "--smoke", "--data", tmp_path / "medium.txt", "--batch-size", "2",
                      "--seq-len", "64", "--out-dir", tmp_path, fragments=("validation text", "--seq-len"))


def test_own_text_file_trains(tmp_path):
    (tmp_path / "mine.txt").write_text("the cat sat on the mat. " * 400, encoding="utf-8")
    run_script(TRAIN, "--smoke", "--data", tmp_path / "mine.txt", "--out-dir", tmp_path,
               "--run-name", "mine")
    m = read_json(tmp_path / "mine" / "metrics.json")
    assert m["vocab_size"] == 12  # 11 distinct characters + the unknown slot
    assert m["test_loss"] < m["test_uniform_loss"]
    # 80/10/10 in reading order: 9,600 characters, 960 of validation and 960 of test
    assert (m["train_chars"], m["val_chars"], m["test_chars"]) == (7680, 960, 960)


def test_prompt_with_unseen_characters(smoke_run):
    run, _ = smoke_run
    assert_user_error(SAMPLE, "--checkpoint", run / "best.pt", "--prompt", "KING€:",
                      fragments=("never saw", "'€'"))


def test_bad_sampling_settings(smoke_run):
    run, _ = smoke_run
    assert_user_error(SAMPLE, "--checkpoint", run / "best.pt", "--temperature", "0",
                      fragments=("--temperature must be positive",))


def test_missing_checkpoint_for_sample(tmp_path):
    proc = run_script(SAMPLE, "--checkpoint", tmp_path / "nothing.pt", check=False)
    assert_one_line_error(proc, "no checkpoint at")


def test_resume_refuses_other_model_or_vocabulary(smoke_run, tmp_path):
    run, _ = smoke_run
    out = run.parent
    assert_user_error(TRAIN, "--smoke", "--resume", "--hidden-size", "32", "--out-dir", out,
                      "--run-name", "smoke",
                      fragments=("different model config", "hidden_size: 64 in checkpoint, 32 now"))
    # Same vocabulary size, different characters: only the vocabulary check can catch it.
    (tmp_path / "abc.txt").write_text("abc abc cab\n" * 300, encoding="utf-8")
    (tmp_path / "abd.txt").write_text("abd abd dab\n" * 300, encoding="utf-8")
    run_script(TRAIN, "--smoke", "--max-steps", "5", "--data", tmp_path / "abc.txt",
               "--out-dir", tmp_path, "--run-name", "abc")
    assert_user_error(TRAIN, "--smoke", "--resume", "--data", tmp_path / "abd.txt",
                      "--out-dir", tmp_path, "--run-name", "abc",
                      fragments=("different vocab", "only now: 'd'"))
    assert_user_error(TRAIN, "--smoke", "--resume", "--out-dir", tmp_path, "--run-name", "none",
                      fragments=("no checkpoint at",))
