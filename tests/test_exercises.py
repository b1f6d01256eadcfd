"""The "try this" exercises (tools/exercises.py and each stage's exercises.py): every solution runs
in smoke mode and prints its measured outcomes without touching a committed file, `--list` shows
every exercise without its solution, every README's exercises section is what `--report` writes
from the committed exercises.json, and a bad exercise number is a one-line error. The runner
itself is checked on a toy stage: the ranges it writes, rounded outward, and its refusals."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT, assert_one_line_error

from shared.runtime.errors import UserError

from tools import exercises as runner
from tools.loader import load_stage_config

STAGES = ["LLMind", "MemoryLLM", "CodeLLM", "SmaLLM", "TinyLLM"]  # the longest smoke runs first


def stage_exercises(stage: str) -> list[runner.Exercise]:
    return load_stage_config(ROOT / stage / "exercises.py").EXERCISES


def exercises_script(stage: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`python exercises.py args` from the stage folder, as a learner runs it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "exercises.py", *args], cwd=ROOT / stage, env=env,
                          capture_output=True, text=True, timeout=timeout)


def snapshot(stage: str) -> tuple[str, set[str]]:
    """What git sees changed in the stage, and every run folder under its results/ folders
    (git ignores new run folders, so they are listed too)."""
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", stage],
                            cwd=ROOT, capture_output=True, text=True).stdout
    # only the exercises' own run names: other test files (the notebooks') run in the same stage
    # folders at the same time under `make test`'s two workers
    runs = {str(p.relative_to(ROOT)) for p in (ROOT / stage).glob("**/results/ex*")}
    return status, runs


@pytest.fixture(scope="module")
def smoke_runs() -> dict[str, tuple[subprocess.CompletedProcess, tuple, tuple]]:
    """Every stage's `--solution all --smoke`, two stages at a time (each run uses one thread),
    with the stage's files before and after."""
    def run(stage: str):
        before = snapshot(stage)
        proc = exercises_script(stage, "--solution", "all", "--smoke")
        return proc, before, snapshot(stage)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(STAGES, pool.map(run, STAGES), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_every_solution_runs_in_smoke_mode_and_touches_nothing(stage, smoke_runs):
    proc, before, after = smoke_runs[stage]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for number, exercise in enumerate(stage_exercises(stage), 1):
        assert f"=== exercise {number}, measured (smoke run" in proc.stdout
        assert exercise.solution in proc.stdout  # the solution is printed before the run
        for outcome in exercise.outcomes:
            assert f"measured {outcome.label}: " in proc.stdout, outcome.label
    assert after == before, "a smoke solution changed a file of the stage or left a run folder"


@pytest.mark.parametrize("stage", STAGES)
def test_list_shows_every_exercise_and_no_solution(stage):
    proc = exercises_script(stage, "--list")
    assert proc.returncode == 0, proc.stderr
    listed = " ".join(proc.stdout.split())  # --list wraps the text
    stage_list = stage_exercises(stage)
    assert 3 <= len(stage_list) <= 5
    for number, exercise in enumerate(stage_list, 1):
        assert f"{number}. {exercise.title}" in proc.stdout
        assert " ".join(exercise.change.split()) in listed
        for command in exercise.commands:
            assert command.shown() in proc.stdout
        assert exercise.solution[:60] not in listed
        assert f"python exercises.py --solution {number}" in proc.stdout
    assert "not measured yet" not in proc.stdout  # every exercise has committed ranges


@pytest.mark.parametrize("stage", STAGES)
def test_readme_ends_with_the_exercises_from_the_measured_runs(stage):
    module = load_stage_config(ROOT / stage / "exercises.py")
    module.main(["--report", "--check"])  # SystemExit(1) if the README is stale
    readme = (ROOT / stage / "README.md").read_text(encoding="utf-8")
    headings = [line for line in readme.splitlines() if line.startswith("## ")]
    assert headings[-1] == runner.HEADING
    assert readme.rstrip().endswith("<!-- end: exercises -->")
    measured = json.loads((ROOT / stage / runner.RESULTS).read_text(encoding="utf-8"))
    for exercise in module.EXERCISES:
        entry = runner.fresh(exercise, measured)
        assert entry is not None and len(entry["seeds"]) >= 2
        for outcome in exercise.outcomes:
            assert outcome.range(entry["outcomes"][outcome.key]) in readme


@pytest.mark.parametrize("stage", STAGES)
def test_a_bad_exercise_number_is_a_one_line_error(stage):
    assert_one_line_error(exercises_script(stage, "--solution", "99"), "no exercise 99")


def test_ranges_round_outward():
    bpc = runner.Outcome("x", "loss", lambda runs: 0.0, unit="bits/char")
    assert bpc.range([2.6049, 2.7501]) == "2.60 to 2.76 bits/char"
    assert bpc.range([2.6, 2.6]) == "2.60 bits/char"  # the same on every seed: one number
    assert bpc.range([2.6001, 2.6002]) == "2.60 to 2.61 bits/char"
    share = runner.Outcome("y", "share", lambda runs: 0.0, digits=0, percent=True)
    assert share.range([0.574, 0.6651]) == "57% to 67%"
    assert share.show(0.5) == "50%"
    count = runner.Outcome("z", "params", lambda runs: 0.0, digits=0)
    assert count.range([648096, 648096]) == "648,096"


TOY_SCRIPT = textwrap.dedent("""\
    import argparse, json, pathlib
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=4)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out-dir", default="results")
    p.add_argument("--run-name", default="run")
    a = p.parse_args()
    folder = pathlib.Path(a.out_dir) / a.run_name
    folder.mkdir(parents=True, exist_ok=True)
    loss = 1.0 / a.width + a.seed / 1000 + (1.0 if a.smoke else 0.0)
    (folder / "metrics.json").write_text(json.dumps({"val": {"loss": loss}, "steps": a.steps}))
    print(f"loss {loss}")
    """)


def toy_exercises(claim=None) -> list[runner.Exercise]:
    wide = runner.Command("ex-wide", "train.py", ("--width", "8"), budget=("--steps", "5"))
    narrow = runner.Command("ex-narrow", "train.py", ("--width", "2"), budget=("--steps", "5"))
    return [runner.Exercise(
        id="width", title="Wider", change="Make it wider.", commands=(wide, narrow),
        outcomes=(runner.Outcome("wide", "wide loss", runner.metric("ex-wide", "val.loss"), digits=3),
                  runner.Outcome("narrow", "narrow loss", runner.metric("ex-narrow", "val.loss"),
                                 digits=3)),
        solution="Wider is better here.",
        holds=claim or (lambda seed: seed["wide"] < seed["narrow"]))]


def test_runner_measures_reports_and_refuses(tmp_path, capsys):
    (tmp_path / "train.py").write_text(TOY_SCRIPT)
    (tmp_path / "README.md").write_text("# Toy\n\n## Results\n\ntext\n")
    toy = toy_exercises()
    runner.main(toy, ["--list"], stage_dir=tmp_path)
    assert "not measured yet" in capsys.readouterr().out
    with pytest.raises(UserError, match="no measured outcomes"):
        runner.main(toy, ["--report"], stage_dir=tmp_path)

    runner.main(toy, ["--seeds"], stage_dir=tmp_path)
    measured = json.loads((tmp_path / runner.RESULTS).read_text())
    entry = measured["exercises"]["width"]
    assert entry["seeds"] == [None, 1]  # the script's default seed, then 1
    assert entry["outcomes"]["wide"] == [0.125 + 0.007, 0.125 + 0.001]
    assert not list(tmp_path.glob("results/ex-*"))  # measured in a scratch folder

    runner.main(toy, ["--report"], stage_dir=tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert readme.index("## Results") < readme.index("## Try this")
    assert "wide loss **0.126 to 0.132**" in readme and "narrow loss **0.501 to 0.507**" in readme
    assert "python train.py --width 8 --steps 5 --run-name ex-wide" in readme
    assert "Wider is better here." in readme.split("<details>")[1]
    runner.main(toy, ["--report", "--check"], stage_dir=tmp_path)  # in sync: no SystemExit
    (tmp_path / "README.md").write_text(readme.replace("0.126 to", "0.1 to"))
    with pytest.raises(SystemExit):
        runner.main(toy, ["--report", "--check"], stage_dir=tmp_path)

    # A solution the numbers contradict, or commands changed since the runs, are refused.
    with pytest.raises(UserError, match="contradicted"):
        runner.main(toy_exercises(lambda seed: seed["wide"] > seed["narrow"]), ["--report"],
                    stage_dir=tmp_path)
    narrower = runner.Command("ex-narrow", "train.py", ("--width", "3"), budget=("--steps", "5"))
    changed = [dataclasses.replace(toy[0], commands=(toy[0].commands[0], narrower))]
    with pytest.raises(UserError, match="current commands"):
        runner.main(changed, ["--report"], stage_dir=tmp_path)

    # A smoke solution drops the budget, adds --smoke and runs in a scratch folder.
    capsys.readouterr()
    runner.main(toy, ["--solution", "1", "--smoke"], stage_dir=tmp_path)
    out = capsys.readouterr().out
    assert "--width 8 --smoke --no-tensorboard --run-name ex-wide --out-dir" in out
    assert "--steps" not in out
    assert "measured wide loss: 1.132   (expected 0.126 to 0.132)" in out
    assert not list(tmp_path.glob("results/ex-*"))
    with pytest.raises(UserError, match="no exercise 2"):
        runner.main(toy, ["--solution", "2"], stage_dir=tmp_path)
