"""The mini-GPT's two experiments of issue 18 as a user runs them: budgets.py (the mini-GPT
against stage 1's GRU under the same time budgets, on 10 and 37 plays) and sweep.py (heads,
depth and width under one budget); their write-ups and their bad input. `--time-budget` itself
(the schedule, and the stop in the budgets smoke run) is tested here too, since both experiments
stand on it."""

import math

import pytest
from conftest import (
    ROOT,
    assert_one_line_error,
    assert_user_error,
    call_main,
    help_text,
    project_folder,
    read_json,
    run_script,
)

from shared.runtime import schedule

BUDGETS, SWEEP = "CodeLLM/minigpt/budgets.py", "CodeLLM/minigpt/sweep.py"
MINIGPT = ROOT / "CodeLLM" / "minigpt"


def gpt_params(vocab: int, context: int, layers: int, width: int) -> int:
    """The mini-GPT's parameters counted by hand: tied token embedding, positions, per block two
    norms (4d), attention (4d^2 + 4d) and the MLP (8d^2 + 5d), then the final norm (2d)."""
    return vocab * width + context * width + layers * (12 * width**2 + 13 * width) + 2 * width


def test_learning_rate_decays_over_the_budget_by_hand():
    peak = 1.0
    assert schedule.learning_rate(0, peak, 10, 100, progress=0.9) == pytest.approx(0.1)  # warm-up
    assert schedule.learning_rate(50, peak, 10, 100, progress=0.0) == pytest.approx(1.0)
    # half the budget: 0.1 + 0.9 * (1 + cos(pi / 2)) / 2 = 0.55 of the peak, whatever the step
    assert schedule.learning_rate(50, peak, 10, 100, progress=0.5) == pytest.approx(0.55)
    assert schedule.learning_rate(5_000, peak, 10, 100, progress=0.5) == pytest.approx(0.55)
    assert schedule.learning_rate(50, peak, 10, 100, progress=1.3) == pytest.approx(0.1)
    # without a budget the steps decide: step 55 of 10 + 90 is halfway
    assert schedule.learning_rate(55, peak, 10, 100) == pytest.approx(0.55)
    assert schedule.budget_progress(30.0, 120.0) == 0.25 and schedule.budget_progress(30.0, 0.0) is None
    assert schedule.more_steps(10**6, 119.9, 100, 120.0) and not schedule.more_steps(3, 120.0, 100, 120.0)
    assert schedule.more_steps(99, 1e9, 100, 0.0) and not schedule.more_steps(100, 0.0, 100, 0.0)


def test_a_negative_time_budget_is_one_line(tmp_path):
    proc = run_script("TinyLLM/train.py", "--smoke", "--time-budget", "-5", "--out-dir", tmp_path,
                      check=False)
    assert_one_line_error(proc, "--time-budget", "-5")


@pytest.fixture(scope="module")
def budgets_smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("budgets")
    proc = run_script(BUDGETS, "--smoke", "--out-dir", out, cwd=MINIGPT)
    return out / "smoke-budgets", proc


@pytest.mark.slow
def test_budgets_smoke_trains_both_models_on_both_corpora_with_the_same_budgets(budgets_smoke):
    run, proc = budgets_smoke
    m = read_json(run / "metrics.json")
    assert (run / "budgets.png").stat().st_size > 10_000
    assert m["settings"]["budgets"] == [0.05] and m["settings"]["corpora"] == ["tiny", "full"]
    assert set(m["runs"]) == {f"{model}-{corpus}-{s}s" for model in ("gru", "gpt")
                              for corpus in ("tiny", "full") for s in (3,)}
    for name, r in m["runs"].items():
        budget = float(name.split("-")[-1].rstrip("s"))
        config = read_json(run / "runs" / name / "config.json")
        # Each run trained through its own stage's script, on the budget, text and seed asked for.
        assert config["time_budget"] == budget and config["seed"] == 1337
        assert config["corpus"] == name.split("-")[1] and config["eval_tokens"] == 4_000
        # --smoke: no live curves (--no-tensorboard), which is no flag of the recorded run
        assert config["tensorboard"] is False and not (run / "runs" / name / "tensorboard").exists()
        assert "--no-tensorboard" not in read_json(run / "runs" / name / "experiment.json")["flags"]
        # --time-budget (no step limit under a budget): it stopped at the first step past the
        # budget, and evaluated and scored at that last step
        assert budget <= r["train_seconds"] < budget + 3 and r["steps"] > 0
        history = read_json(run / "runs" / name / "history.json")
        assert history["step"][-1] == history["val_step"][-1] == r["steps"]
        assert r["test_bits_per_char"] < r["test_uniform_bits_per_char"]
    assert read_json(run / "runs" / "gru-tiny-3s" / "config.json")["model"] == "gru"
    # 37 plays is more than four times the text of 10, with the same validation and test text.
    assert m["runs"]["gru-full-3s"]["train_chars"] > 4 * m["runs"]["gru-tiny-3s"]["train_chars"]
    assert len({r["test_text_sha256"] for r in m["runs"].values()}) == 1
    # Every comparison is GPT minus GRU at one corpus and budget, recomputed here by hand.
    assert len(m["comparisons"]) == 2 and len(m["data_effect"]) == 2
    for c in m["comparisons"]:
        gru, gpt = (m["runs"][f"{model}-{c['corpus']}-{c['seconds']:g}s"] for model in ("gru", "gpt"))
        nats = sum(gpt["test_block_nats"]) - sum(gru["test_block_nats"])
        by_hand = nats / math.log(2) / gpt["test_chars"]
        assert c["difference"] == pytest.approx(by_hand, abs=1e-4)
        assert c["low"] <= c["difference"] <= c["high"]
    assert "On the 10 plays" in proc.stdout and "More text (37 plays instead of 10)" in proc.stdout


@pytest.mark.slow
def test_budgets_rerun_reuses_every_finished_run(budgets_smoke):
    run, _ = budgets_smoke
    proc = run_script(BUDGETS, "--smoke", "--out-dir", run.parent, cwd=MINIGPT)
    assert proc.stdout.count("finished earlier, reusing") == 4
    assert "===" not in proc.stdout  # nothing trained again


@pytest.mark.slow
def test_budgets_write_up_follows_the_numbers(budgets_smoke):
    m = read_json(budgets_smoke[0] / "metrics.json")
    with project_folder(MINIGPT):
        from budgets import section
        text = section(m)
        for c in m["comparisons"]:  # flip the signs: the verdicts and the sentence follow
            c["difference"], c["low"], c["high"] = -abs(c["high"]) - 0.1, -abs(c["high"]) - 0.2, -0.05
            c["significant"] = True
        flipped = section(m)
    assert text.count("| 10 plays |") == 1 and text.count("| 37 plays |") == 1
    assert f"| {m['runs']['gru-tiny-3s']['test_bits_per_char']:.3f} (" in text  # the GRU's cell
    assert flipped.count("mini-GPT better") == 2
    assert "On the 10 plays the mini-GPT overtook the GRU from the 0.05 min budget" in flipped


@pytest.fixture(scope="module")
def sweep_smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    proc = run_script(SWEEP, "--smoke", "--out-dir", out, cwd=MINIGPT)
    return out / "smoke-sweep", proc


@pytest.mark.slow
def test_sweep_smoke_changes_one_setting_at_a_time_and_marks_the_best_on_validation(sweep_smoke):
    run, proc = sweep_smoke
    m = read_json(run / "metrics.json")
    assert (run / "sweep.png").stat().st_size > 10_000
    # The centre (1 block, 2 heads, width 32), then heads 1, blocks 2, width 16: four runs.
    assert [r["name"] for r in m["rows"]] == ["L1-H2-W32", "L1-H1-W32", "L2-H2-W32", "L1-H2-W16"]
    vocab = read_json(run / "runs" / "L1-H2-W32" / "config.json")["model_config"]["vocab_size"]
    for r in m["rows"]:
        # the shape each run trained: its parameters counted by hand
        assert r["params"] == gpt_params(vocab, 32, r["layers"], r["width"]), r["name"]
        assert m["settings"]["seconds"] <= m["runs"][r["name"]]["train_seconds"] < 6
    assert m["chosen"] == min(m["rows"], key=lambda r: r["val_bits_per_char"])["name"]
    assert [r["minus_chosen"] is None for r in m["rows"]].count(True) == 1
    for r in m["rows"]:
        if r["minus_chosen"] is not None:
            d = r["minus_chosen"]
            assert d["low"] <= d["difference"] <= d["high"]
    assert "Compute-optimal for 3 s" in proc.stdout


# The first of each script as a subprocess (run_main's one line and exit status 2), the others
# in this process.
@pytest.mark.parametrize("script, args, fragments, subprocess", [
    (SWEEP, ["--heads", "3", "4"], ["width 128 with 3 heads", "multiple"], True),
    (SWEEP, ["--budget", "5"], ["8 runs", "--max-minutes 20"], False),
    (SWEEP, ["--budget", "0"], ["--budget 0"], False),
    (BUDGETS, ["--budgets", "0", "1"], ["positive"], True),
    (BUDGETS, ["--budgets", "1", "1"], ["each value once"], False),
])
def test_bad_input_is_one_line_before_anything_trains(script, args, fragments, subprocess, tmp_path):
    if subprocess:
        assert_one_line_error(run_script(script, *args, "--out-dir", tmp_path, check=False), *fragments)
    else:
        assert_user_error(script, *args, "--out-dir", tmp_path, fragments=tuple(fragments))
    assert not any(tmp_path.iterdir())  # nothing was written


@pytest.mark.parametrize("script", [BUDGETS, SWEEP])
def test_committed_reference_runs_are_in_the_readme(script):
    assert call_main(script, "--report", "--check") == 0


@pytest.mark.parametrize("script, flag", [(BUDGETS, "--budgets"), (SWEEP, "--widths")])
def test_scripts_answer_help(script, flag):
    text = help_text(script)
    assert flag in text and "--smoke" in text
