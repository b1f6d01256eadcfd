"""Scale-out on CPU: gradient accumulation and batch sharing give the same gradient as one
process, a 2-process torchrun run (gloo) matches a 1-process run and writes its artifacts from
rank 0 alone, --resume works under 2 processes, and the mixed-precision paths run. Every
torchrun test compares its result with a 1-process run of the same settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT, assert_one_line_error, assert_user_error, read_json, run_script

from shared.lm import loop
from shared.runtime import parallel
from shared.runtime.config import RuntimeConfig
from shared.runtime.errors import UserError

TINY = "TinyLLM/train.py"
# Two processes of one thread each reorder float sums; more than this would be a real bug.
TOLERANCE = 1e-4


def torchrun(script: str | Path, *args, processes: int = 2) -> subprocess.CompletedProcess:
    """`torchrun --standalone --nproc-per-node N script args` (a free port, gloo on CPU)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           f"--nproc-per-node={processes}", str(ROOT / script), *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def one_process_runtime(dtype: str = "float32") -> parallel.Runtime:
    return parallel.setup(RuntimeConfig(device="cpu", threads=1, dtype=dtype))


def test_dtype_auto_is_float32_on_cpu():
    assert parallel.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert parallel.resolve_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
    rt = one_process_runtime()
    assert rt.main and not rt.distributed and rt.scaler is None
    assert rt.sum(2.5) == 2.5
    state = [(torch.ones(2), torch.zeros(2)), None]
    assert rt.gather(state)[0] is state  # one process: nothing to send


def test_batch_rows_are_shared_out_without_overlap():
    class Rank:  # what rank r of 2 processes sees
        def __init__(self, rank):
            self.rank, self.world = rank, 2

    parts = [loop.split_batch(Rank(r), 8, 2) for r in (0, 1)]
    rows = [list(range(8))[s] for p in parts for s in p]
    assert rows == [[0, 1], [2, 3], [4, 5], [6, 7]]  # rank 0: rows 0-3 in two micro-batches
    with pytest.raises(UserError, match="multiple of processes x --grad-accum"):
        loop.split_batch(Rank(0), 6, 2)


@pytest.mark.parametrize("grad_accum", [2, 3])
def test_grad_accum_gives_the_whole_batch_gradient(grad_accum):
    """A step on 6 samples in micro-batches = a step on the whole batch (plain SGD, by hand)."""
    torch.manual_seed(0)
    x, y = torch.randn(6, 3), torch.randn(6)
    results = []
    for accum in (1, grad_accum):
        model = torch.nn.Linear(3, 1)
        torch.nn.init.constant_(model.weight, 0.5)
        torch.nn.init.zeros_(model.bias)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

        def loss_of(net, idx):
            return ((net(x[idx]).squeeze(1) - y[idx]) ** 2).sum()

        loss = one_process_runtime().train_step(model, model, optimizer, torch.arange(6), loss_of,
                                                clip=1e9, grad_accum=accum)
        results.append((loss, model.weight.detach().clone()))
    (loss_1, w_1), (loss_n, w_n) = results
    expected_loss = float(((x @ torch.full((3,), 0.5) - y) ** 2).mean())
    assert loss_1 == pytest.approx(expected_loss, rel=1e-6) and loss_n == pytest.approx(loss_1, rel=1e-6)
    gradient = 2 * ((x @ torch.full((3,), 0.5) - y)[:, None] * x).mean(0)
    assert torch.allclose(w_1[0], 0.5 - 0.1 * gradient, atol=1e-6)
    assert torch.allclose(w_n, w_1, atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_mixed_precision_steps_run_on_cpu(dtype):
    """The autocast (and, for float16, gradient scaler) code paths, on a CPU."""
    rt = one_process_runtime(dtype)
    assert (rt.scaler is not None) == (dtype == "float16")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(64, 8), torch.randn(64, 1)
    with rt.autocast():
        assert model(x).dtype == getattr(torch, dtype)  # the matmuls run in low precision
    losses = [rt.train_step(model, model, optimizer, torch.arange(64),
                            lambda net, i: ((net(x[i]).float() - y[i]) ** 2).sum(), clip=1.0)
              for _ in range(30)]
    assert losses[-1] < losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay float32


def test_bad_runtime_settings_are_one_line_errors(tmp_path):
    proc = run_script(TINY, "--smoke", "--out-dir", tmp_path, "--grad-accum", "0", check=False)
    assert_one_line_error(proc, "--grad-accum must be at least 1")
    assert_user_error(TINY, "--smoke", "--out-dir", tmp_path, "--grad-accum", "3",
                      fragments=("--batch-size 16 must be a multiple of processes x --grad-accum",))


@pytest.mark.slow
def test_two_processes_match_one_rank_zero_alone_writes_and_resume_works(tmp_path):
    """40 steps, then --resume to 60, under 2 processes and under 1: the same losses at every
    evaluation, and under 2 processes rank 0 alone prints and writes (the same files as 1)."""
    for name, launch in (("two", torchrun), ("one", run_script)):
        common = ["--smoke", "--threads", "1", "--out-dir", tmp_path, "--run-name", name]
        launch(TINY, *common, "--max-steps", "40")
        proc = launch(TINY, *common, "--max-steps", "60", "--resume")
        assert proc.stdout.count("resuming") == 1 and proc.stdout.count("results in") == 1
    one, two = read_json(tmp_path / "one" / "metrics.json"), read_json(tmp_path / "two" / "metrics.json")
    assert two["processes"] == 2 and one["processes"] == 1
    assert one["steps"] == two["steps"] == 60
    assert two["val_loss"] == pytest.approx(one["val_loss"], abs=TOLERANCE)
    history = read_json(tmp_path / "two" / "history.json")
    assert history["val_loss"] == pytest.approx(read_json(tmp_path / "one" / "history.json")["val_loss"],
                                                abs=TOLERANCE)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == \
        sorted(p.name for p in (tmp_path / "one").iterdir())


GATHER = """
import json, sys, torch
from shared.runtime import parallel
from shared.runtime.config import RuntimeConfig
rt = parallel.setup(RuntimeConfig(device="cpu", threads=1))
r = rt.rank
got = rt.gather([None, torch.full((2, 3), float(r)), (torch.arange(4) + 10 * r, torch.ones(1) * r), 7])
out = [[g[0], g[1].tolist(), type(g[2]).__name__, g[2][0].tolist(), g[2][1].tolist(), g[3]] for g in got]
try:
    rt.gather([torch.zeros(2 + r)])  # a different shape on each process
except RuntimeError as err:
    out.append(str(err))
open(sys.argv[1] + f"/rank{r}.json", "w").write(json.dumps(out))
rt.close()
"""


@pytest.mark.slow
def test_gather_sends_tensors_between_processes(tmp_path):
    """Runtime.gather (the recurrent states a checkpoint keeps) under 2 real processes: every
    process gets every process's tensors in rank order, nesting and tuples kept, without
    pickling; differently shaped objects are refused rather than mixed up."""
    script = tmp_path / "gather.py"
    script.write_text(GATHER, encoding="utf-8")
    torchrun(script, tmp_path)
    expected = [[None, [[0.0] * 3] * 2, "tuple", [0, 1, 2, 3], [0.0], 7],
                [None, [[1.0] * 3] * 2, "tuple", [10, 11, 12, 13], [1.0], 7],
                "gather: the processes hold differently shaped objects"]
    for rank in (0, 1):
        assert read_json(tmp_path / f"rank{rank}.json") == expected


# What each script's metrics.json says about the model, compared between 1 and 2 processes,
# and the relative tolerance. seq2seq's loss is each micro-batch's mean over its tokens,
# weighted by its examples: cut the batch differently (2 processes) and the gradient shifts a
# little (3e-4 relative in val_loss after the smoke run's 100 steps), hence its looser bound.
COMPARED = {"CodeLLM/forecaster/train.py": (("val_rmse_mean", "test_rmse_mean"), TOLERANCE),
            "CodeLLM/minigpt/train.py": (("val_loss", "steps", "best_step"), TOLERANCE),
            "SmaLLM/train.py": (("val_loss", "steps", "best_step"), TOLERANCE),
            "CodeLLM/seq2seq/train.py": (("val_loss", "test_loss", "best_step"), 1e-3)}


@pytest.mark.slow
@pytest.mark.parametrize("script", list(COMPARED))
def test_every_pytorch_script_under_torchrun_matches_one_process(script, tmp_path):
    """2 processes x 2 micro-batches and 1 process x 2 micro-batches share out the same batches,
    so they train the same model. Dropout is off: each process draws its own masks, so with
    dropout the two runs would differ by design; without it only the order of float sums
    differs (tolerances in COMPARED)."""
    common = ["--smoke", "--threads", "1", "--out-dir", tmp_path, "--grad-accum", "2",
              "--dropout", "0"]
    proc = torchrun(script, *common, "--run-name", "ddp")
    assert "2 processes (gloo)" in proc.stdout
    run_script(script, *common, "--run-name", "one")
    two, one = (read_json(tmp_path / name / "metrics.json") for name in ("ddp", "one"))
    keys, tolerance = COMPARED[script]
    for key in keys:
        assert two[key] == pytest.approx(one[key], rel=tolerance), key


@pytest.mark.slow
def test_bfloat16_autocast_run_on_cpu(tmp_path):
    run_script("CodeLLM/minigpt/train.py", "--smoke", "--threads", "1", "--out-dir", tmp_path,
               "--run-name", "bf16", "--dtype", "bfloat16")
    run_script("CodeLLM/minigpt/train.py", "--smoke", "--threads", "1", "--out-dir", tmp_path,
               "--run-name", "fp32")
    bf16, fp32 = (read_json(tmp_path / n / "metrics.json") for n in ("bf16", "fp32"))
    assert bf16["dtype"] == "bfloat16" and fp32["dtype"] == "float32"
    assert bf16["val_loss"] != fp32["val_loss"]  # it did run in another precision
    assert bf16["val_loss"] == pytest.approx(fp32["val_loss"], abs=0.1)


@pytest.mark.slow
def test_keras_mirrored_strategy_runs_on_one_replica(tmp_path):
    """--distribute mirrored on a machine without GPUs: one replica, on the CPU."""
    proc = run_script("MemoryLLM/train.py", "--smoke", "--distribute", "mirrored", "--out-dir", tmp_path,
                      "--run-name", "mirrored")
    assert "MirroredStrategy, 1 replica(s)" in proc.stdout
    metrics = read_json(tmp_path / "mirrored" / "metrics.json")
    assert metrics["replicas"] == 1 and metrics["test_rmse_mean"] > 0


@pytest.mark.slow
def test_llmind_trainer_under_torchrun_matches_one_process(tmp_path, monkeypatch):
    """Stage 5 under 2 processes (what `accelerate launch` also does): rank 0 alone writes, the
    logged training loss is a per-sentence mean (about ln 2 for two classes at the start), not
    multiplied by the number of processes, and the run ends where one process does.

    The Trainer gives each process --batch-size sentences, so the 1-process reference takes
    twice that: the same sentences per step and the same steps. The Trainer's samplers order
    the sentences differently with 1 and 2 processes, and each process draws its own dropout
    masks, so the two runs agree only closely: the smoke run moves the validation loss from
    ln 2 = 0.693 to about 0.686, and the two end 4e-4 apart; 2e-3 is the bound."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    common = ["--smoke", "--threads", "1", "--out-dir", tmp_path, "--no-baselines"]
    proc = torchrun("LLMind/train.py", *common, "--run-name", "ddp", "--batch-size", "16")
    assert proc.stdout.count("wrote ") == 1
    run_script("LLMind/train.py", *common, "--run-name", "one", "--batch-size", "32")
    logs = {name: read_json(tmp_path / name / "history.json")["log"] for name in ("ddp", "one")}
    losses = [e["loss"] for e in logs["ddp"] if "loss" in e]
    assert losses and all(0.5 < loss < 0.9 for loss in losses)
    (two, *_), (one, *_) = ([e for e in reversed(log) if "eval_loss" in e] for log in logs.values())
    assert two["step"] == one["step"]
    assert two["eval_loss"] == pytest.approx(one["eval_loss"], abs=2e-3)
