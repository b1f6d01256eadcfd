"""TinyLLM's "why gates" experiment as a user runs it: the smoke run (TinyLLM/gates.py, which
runs CodeLLM/minigpt/recall.py), its write-up, and its bad input. The task itself:
test_lm_recall.py."""

import pytest
from conftest import ROOT, assert_one_line_error, assert_user_error, help_text, read_json, run_script

from tools.loader import load_stage_config

GATES, GPT_RECALL = "TinyLLM/gates.py", "CodeLLM/minigpt/recall.py"
report = load_stage_config(ROOT / "TinyLLM" / "report.py")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("gates")
    proc = run_script(GATES, "--smoke", "--out-dir", out, cwd=ROOT / "TinyLLM")
    return out / "smoke-gates", proc


@pytest.mark.slow
def test_smoke_run_shows_gates_remembering_where_the_plain_rnn_forgets(smoke):
    run, proc = smoke
    for name in ("metrics.json", "gates.png", "gpt/metrics.json"):
        assert (run / name).is_file(), name
    m = read_json(run / "metrics.json")
    assert m["settings"]["smoke"] is True and m["chance"] == 1 / 8
    assert set(m["summary"]) == {"rnn", "gru", "lstm", "gpt"}
    at = {model: {x["distance"]: x for x in s["by_distance"]} for model, s in m["summary"].items()}
    # d = 4: a short memory, every model recalls; d = 20: the plain RNN is at chance, the
    # gated cells are far above it (checked over seeds 0-2: RNN 11-12%, GRU 100%, LSTM >= 89%).
    assert all(at[model][4]["mean"] > 0.9 for model in at)
    assert at["rnn"][20]["at_chance"] and m["summary"]["rnn"]["falls_to_chance_at"] == 20
    for cell in ("gru", "lstm"):
        assert at[cell][20]["mean"] > at["rnn"][20]["mean"] + 0.4
        assert not at[cell][20]["at_chance"] and m["summary"][cell]["falls_to_chance_at"] is None
    assert m["target"] == {"recall": 0.9, "met_at": [20], "met": True}
    # Every model has the same budget and test set at every distance.
    assert {(r["distance"], r["total"]) for r in m["runs"]} == {(4, 300), (20, 300)}
    assert len(m["runs"]) == 4 * 2
    # The vanishing gradient: one norm per step back; after training, what reaches the marked
    # symbol (k = d) from the query has faded by orders of magnitude more in the plain RNN.
    g = m["gradients"]
    assert all(len(g[c][when]) == 21 for c in ("rnn", "gru", "lstm") for when in ("init", "trained"))
    fade = {c: g[c]["trained"][-1] / g[c]["trained"][0] for c in g}
    assert fade["rnn"] < 1e-4 and fade["gru"] > 100 * fade["rnn"] and fade["lstm"] > 100 * fade["rnn"]
    assert "target (GRU and LSTM > 90%" in proc.stdout


@pytest.mark.slow
def test_the_write_up_derives_where_each_model_falls_to_chance(smoke):
    text = report.gates_section(read_json(smoke[0] / "metrics.json"))
    assert "the plain RNN from d = 20" in text and "the GRU at no distance up to 20" in text
    assert "Where gates did not matter: at d = 4 every cell" in text
    assert "met at d = 20" in text


def test_committed_reference_run_is_in_the_readme():
    assert report.write_gates_section(check=True), "run `python TinyLLM/gates.py --run-name reference-gates`"


def test_bad_input_is_one_line_before_training(tmp_path):
    """Through run_main in a subprocess (one line, exit status 2); the other cases in-process."""
    proc = run_script(GATES, "--distances", "300", "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "distance 300", "context is 256", "--gpt-context 301")
    assert not any(tmp_path.iterdir())  # nothing was written


@pytest.mark.parametrize("args, fragments", [
    (["--steps", "0"], ["--steps 0"]),
    (["--distances", "0", "5"], ["at least 1"]),
    (["--alphabet", "1"], ["--alphabet 1"]),
])
def test_more_bad_input_stops_before_training(args, fragments, tmp_path):
    assert_user_error(GATES, *args, "--out-dir", tmp_path, fragments=tuple(fragments))
    assert not any(tmp_path.iterdir())  # nothing was written


def test_gpt_recall_refuses_a_distance_beyond_its_context(tmp_path):
    proc = run_script(GPT_RECALL, "--distances", "64", "--context", "64", "--out-dir", tmp_path,
                      check=False)
    assert_one_line_error(proc, "distance 64", "context is 64")


@pytest.mark.parametrize("script", [GATES, GPT_RECALL])
def test_scripts_answer_help(script):
    text = help_text(script)
    assert "--distances" in text and "--seeds" in text
