"""What pretraining buys (CodeLLM/minigpt/genre.py): the data splits it promises (by play, no
labelled play in the pretraining text, labels from the folders), that its two arms differ in
their starting weights only, its smoke run as a user runs it, its bad input and its README
section."""

import math

import numpy as np
import pytest
import torch
from conftest import (
    ROOT,
    assert_one_line_error,
    assert_user_error,
    call_main,
    project_folder,
    read_json,
    run_script,
)

from shared.lm import text
from shared.runtime import files

GENRE = "CodeLLM/minigpt/genre.py"
MINIGPT = ROOT / "CodeLLM" / "minigpt"


@pytest.fixture(scope="module")
def data():
    with project_folder(MINIGPT):
        import genre_data
        yield genre_data


@pytest.fixture(scope="module")
def split(data):
    splits = data.split_plays(0, [2, 3, 2], [1, 2, 1])
    return splits, data.passage_sets(splits, 256, 100, 200, 0)


def test_no_play_in_two_splits_and_no_labelled_play_in_the_pretraining_text(data, split):
    splits, sets = split
    labelled = data.labelled_paths()
    seen = [p for by_genre in splits.values() for plays in by_genre.values() for p in plays]
    assert sorted(seen) == sorted(p for plays in labelled.values() for p in plays)  # each play once
    assert len(seen) == len(set(seen)) == 25
    for i, genre in enumerate(data.GENRES):  # stratified: every genre in every split, as many as asked
        assert len(splits["test"][genre]) == [2, 3, 2][i] and len(splits["validation"][genre]) == [1, 2, 1][i]
        assert len(splits["train"][genre]) == len(labelled[genre]) - [3, 5, 3][i]
    # The passages of each split come from that split's plays only.
    stems = {s: {p.stem for plays in splits[s].values() for p in plays} for s in splits}
    assert {play for pool in sets.train_pool.values() for _, play in pool} == stems["train"]
    assert set(sets.validation.plays) <= stems["validation"] and set(sets.test.plays) <= stems["test"]
    assert not set(sets.test.texts) & set(sets.validation.texts)
    # No labelled play was pretrained on: a long stretch of each is nowhere in the pretraining text.
    pretraining = data.pretraining_text()
    assert len(data.pretraining_paths()) == 13 and len(pretraining) > 1_000_000
    assert not set(data.pretraining_paths()) & set(seen)
    for path in seen:
        play = data.play_text(path)
        assert play[len(play) // 2: len(play) // 2 + 300] not in pretraining, path.stem
    # ... while a stretch of a pretraining play is (the check above can fail).
    assert data.play_text(data.pretraining_paths()[0])[5_000:5_300] in pretraining
    # Another split seed gives another, still disjoint, split.
    other = data.split_plays(1, [2, 3, 2], [1, 2, 1])
    assert other["test"] != splits["test"]
    other_test, other_train = ({p for v in other[s].values() for p in v} for s in ("test", "train"))
    assert not other_test & other_train


def test_genre_labels_are_the_folders_of_the_plays(data, split):
    _, sets = split
    folder = {p.stem: p.parent.name for p in text.play_paths()}
    assert data.GENRES == ("comedies", "histories", "tragedies")
    assert [len(v) for v in data.labelled_paths().values()] == [8, 11, 6]
    for passages in (sets.validation, sets.test):
        assert [data.GENRES[label] for label in passages.labels] == [folder[p] for p in passages.plays]
        assert passages.per_genre() == [len(passages) // 3] * 3  # balanced: accuracy is macro accuracy
    for genre, pool in sets.train_pool.items():
        assert {folder[play] for _, play in pool} == {genre}
    subset = data.labelled_subset(sets.train_pool, 50, seed=3)
    assert [data.GENRES[label] for label in subset.labels] == [folder[p] for p in subset.plays]
    assert subset.per_genre() == [17, 17, 16] and len(set(subset.texts)) == 50
    # A seed's smaller labelled set is part of its larger one; another seed draws another.
    assert set(subset.texts) <= set(data.labelled_subset(sets.train_pool, 200, seed=3).texts)
    assert set(subset.texts) != set(data.labelled_subset(sets.train_pool, 50, seed=4).texts)
    # Passages are non-overlapping windows of the play, in order.
    assert data.passages("abcdefghij", 3) == ["abc", "def", "ghi"]


def test_balanced_counts_by_hand(data):
    assert data.balanced_counts(50, [100, 100, 100]) == [17, 17, 16]
    assert data.balanced_counts(1000, [2000, 2000, 200]) == [400, 400, 200]  # the short genre gives all
    assert data.balanced_counts(7, [1, 0, 9]) == [1, 0, 6]
    with pytest.raises(ValueError, match="only 10 passages"):
        data.balanced_counts(11, [5, 5, 0])


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("genre")
    proc = run_script(GENRE, "--smoke", "--out-dir", out)
    return out / "smoke-genre", proc


@pytest.mark.slow
def test_smoke_run_writes_every_artifact(smoke):
    run, proc = smoke
    m = read_json(run / "metrics.json")
    assert (run / "genre.png").stat().st_size > 10_000 and (run / "runs" / "pretrain" / "best.pt").is_file()
    s = m["settings"]
    assert len(m["fine_tunes"]) == len(s["sizes"]) * s["seeds"] * 2
    p = m["pretraining"]
    assert p["val_bits_per_char"] < p["test_uniform_bits_per_char"]  # it learned something
    for r in m["fine_tunes"]:
        assert len(r["test_correct"]) == 3 * s["test_per_genre"] and 0 <= r["test_accuracy"] <= 1
        by_hand = r["test_correct"].count("1") / len(r["test_correct"])
        assert r["test_accuracy"] == pytest.approx(by_hand, abs=1e-4)
        assert r["best_step"] in [h["step"] for h in r["history"]]
        best = max(r["history"], key=lambda h: (h["val_accuracy"], -h["val_loss"]))
        assert r["val_accuracy"] == best["val_accuracy"]  # the step was chosen on validation
    for x in m["summary"]:
        for key in ("test_pretrained", "test_random", "test_difference"):
            assert x[key]["low"] <= x[key]["mean"] <= x[key]["high"] and math.isfinite(x[key]["mean"])
        rows = {i: [r for r in m["fine_tunes"] if r["size"] == x["size"] and r["init"] == i]
                for i in ("pretrained", "random")}
        by_hand = np.mean([r["test_accuracy"] for r in rows["pretrained"]]) - \
            np.mean([r["test_accuracy"] for r in rows["random"]])
        assert x["test_difference"]["mean"] == pytest.approx(by_hand, abs=1e-3)
    assert "labelled passages" in proc.stdout and "wrote" in proc.stdout


@pytest.mark.slow
def test_the_two_recipes_differ_in_the_init_only(smoke):
    m = read_json(smoke[0] / "metrics.json")
    pretrained, random = m["recipes"]["pretrained"], m["recipes"]["random"]
    assert (pretrained["init"], random["init"]) == ("pretrained", "random")
    assert {k: v for k, v in pretrained.items() if k != "init"} == \
        {k: v for k, v in random.items() if k != "init"}
    pretraining = read_json(smoke[0] / "runs" / "pretrain" / "config.json")
    assert pretrained["model_config"] == pretraining["model_config"]
    # Every size and seed ran in both arms, on the same labelled passages.
    rows = {(r["init"], r["size"], r["seed"]): r for r in m["fine_tunes"]}
    for size in m["settings"]["sizes"]:
        for seed in range(m["settings"]["seeds"]):
            a, b = rows["pretrained", size, seed], rows["random", size, seed]
            assert a["labelled_sha256"] == b["labelled_sha256"]
    assert len({r["labelled_sha256"] for r in m["fine_tunes"]}) == len(m["fine_tunes"]) // 2


@pytest.mark.slow
def test_the_pretrained_classifier_starts_from_the_checkpoint_and_the_random_one_does_not(smoke):
    m = read_json(smoke[0] / "metrics.json")
    # What the run recorded before each fine-tune's first step.
    for r in m["fine_tunes"]:
        if r["init"] == "pretrained":
            assert r["start_distance_to_checkpoint"] == 0.0
        else:
            assert r["start_distance_to_checkpoint"] > 0.01
    checkpoint = files.load_checkpoint(smoke[0] / "runs" / "pretrain" / "best.pt")
    with project_folder(MINIGPT):
        import genre
        config = checkpoint["model_config"]
        pre = genre.build_classifier("pretrained", config, checkpoint["model"], seed=1)
        ran = genre.build_classifier("random", config, checkpoint["model"], seed=1)
        ids = torch.randint(1, config["vocab_size"], (2, 16))
        with torch.no_grad():  # the classifier's features are the language model's, before its read-out
            read_out = pre.body.head(genre.features(pre.body, ids))
            assert torch.allclose(read_out, pre.body.logits(ids), atol=1e-5)
    for name, weight in pre.body.state_dict().items():
        assert torch.equal(weight, checkpoint["model"][name]), name
    matrices = [name for name, weight in ran.body.state_dict().items() if weight.dim() == 2]
    assert len(matrices) > 5 and not any(torch.equal(ran.body.state_dict()[name], checkpoint["model"][name])
                                         for name in matrices)
    # The same seed gives both arms the same head.
    assert torch.equal(pre.classify.weight, ran.classify.weight)


@pytest.mark.slow
def test_a_rerun_reuses_the_pretraining_and_every_fine_tune(smoke):
    run, _ = smoke
    before = read_json(run / "metrics.json")
    proc = run_script(GENRE, "--smoke", "--out-dir", run.parent)
    assert "finished earlier, reusing" in proc.stdout and "===" not in proc.stdout  # no pretraining
    assert proc.stdout.count("(finished earlier, reused)") == len(before["fine_tunes"])
    assert read_json(run / "metrics.json")["summary"] == before["summary"]


@pytest.mark.slow
def test_the_conclusion_follows_the_numbers(smoke):
    m = read_json(smoke[0] / "metrics.json")
    with project_folder(MINIGPT):
        import genre
        for x in m["summary"]:  # pretraining clearly ahead everywhere ...
            x["test_difference"] = {"mean": 0.2, "low": 0.1, "high": 0.3, "significant": True}
        helped = " ".join(genre.conclusions(m))
        x = m["summary"][0]  # ... but not at the smallest size
        x["test_difference"] = {"mean": 0.02, "low": -0.05, "high": 0.09, "significant": False}
        mixed = genre.section(m)
    sizes = m["settings"]["sizes"]
    assert "pretraining helped at" in helped and "NOT" not in helped
    assert f"pretraining did NOT help significantly at {sizes[0]:,} labelled" in mixed
    assert "| no significant difference |" in mixed and "| pretraining helped |" in mixed


def test_bad_input_is_one_line_before_anything_is_written(tmp_path):
    """Through run_main in a subprocess (one line, exit status 2). In a subprocess too because
    this error comes after --smoke's threads=1 is applied, which must not leak into this process."""
    proc = run_script(GENRE, "--smoke", "--sizes", "100000", "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "--sizes 100000", "training plays give only", "passages")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("args, fragments", [
    (["--passage-chars", "100"], ["--passage-chars 100", "--seq-len 64"]),
    (["--seeds", "1"], ["--seeds 1"]),
])
def test_more_bad_input_stops_before_anything_is_written(args, fragments, tmp_path):
    assert_user_error(GENRE, "--smoke", *args, "--out-dir", tmp_path, fragments=tuple(fragments))
    assert not any(tmp_path.iterdir())


def test_committed_readme_section_matches_the_reference_run():
    assert call_main(GENRE, "--report", "--check") == 0
    m = read_json(MINIGPT / "results" / "reference-genre" / "metrics.json")
    assert not m["settings"]["smoke"] and (MINIGPT / "results" / "reference-genre" / "genre.png").is_file()
