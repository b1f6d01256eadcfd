"""CodeLLM's toy encoder-decoder tasks: the data (number words by hand, no test source in
training), the model's mechanics (shapes, causal mask, padding), then seq2seq/train.py run as a
user runs it, with --smoke, and its report. Then "why attention": the translator's data, the
length split, the recurrent models' score functions by hand and their attention, and
why_attention.py's smoke run and report."""

import math

import pytest
import torch
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
from tensorboard_events import scalars

from tools.loader import load_stage_config

TRAIN = "CodeLLM/seq2seq/train.py"
WHY = "CodeLLM/seq2seq/why_attention.py"
# By path: stages share module names. model.py and config.py import data.py from their own
# folder, as when seq2seq/train.py runs, so that folder is first on sys.path while they load
# (and only then).
SEQ2SEQ = ROOT / "CodeLLM" / "seq2seq"
with project_folder(SEQ2SEQ):
    tasks, nets, settings, rnns = (load_stage_config(SEQ2SEQ / f"{name}.py")
                                   for name in ("data", "model", "config", "recurrent"))


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (10, "ten"), (13, "thirteen"), (19, "nineteen"), (20, "twenty"),
    (45, "forty five"), (90, "ninety"), (100, "one hundred"), (101, "one hundred one"),
    (115, "one hundred fifteen"), (245, "two hundred forty five"), (1000, "one thousand"),
    (1007, "one thousand seven"), (12_019, "twelve thousand nineteen"),
    (40_300, "forty thousand three hundred"), (100_001, "one hundred thousand one"),
    (999_999, "nine hundred ninety nine thousand nine hundred ninety nine"),
])
def test_number_to_words_by_hand(n, words):
    assert tasks.number_to_words(n) == words


def test_number_to_words_rejects_numbers_out_of_range():
    for n in (-1, 1_000_000):
        with pytest.raises(ValueError, match="outside"):
            tasks.number_to_words(n)


@pytest.fixture(scope="module", params=tasks.TASKS)
def data(request):
    return tasks.make_data(request.param, train_size=3000, val_size=300, test_size=300, seed=0)


def test_held_out_sources_never_appear_in_training(data):
    train = {tuple(s) for s in data.train.sources}
    val, test = {tuple(s) for s in data.val.sources}, {tuple(s) for s in data.test.sources}
    assert (len(train), len(val), len(test)) == (3000, 300, 300)  # all distinct
    assert not train & test and not train & val and not val & test


def test_targets_follow_the_task(data):
    for source, target in zip(data.train.sources, data.train.targets, strict=True):
        if data.task == "reverse":
            assert target == source[::-1] and 3 <= len(source) <= 8
        else:
            assert target == tasks.number_to_words(int("".join(source))).split()
            assert source == list(str(int("".join(source))))  # digits, no leading zeros


def test_same_seed_same_split():
    a = tasks.make_data("number-words", 200, 20, 20, seed=3)
    b = tasks.make_data("number-words", 200, 20, 20, seed=3)
    assert a.test.sources == b.test.sources and a.train.sources == b.train.sources


def test_padded_tensors_and_vocab_round_trip(data):
    src, tgt = data.tensors(data.test)
    assert src.shape == (300, data.max_source_len) and tgt.shape == (300, data.max_target_len)
    V = tasks.Vocab
    assert torch.all(tgt[:, 0] == V.BOS)
    for i in range(5):
        assert data.target_vocab.decode(tgt[i]) == data.test.targets[i]
        n = len(data.test.sources[i])
        assert src[i, n] == V.EOS and torch.all(src[i, n + 1 :] == V.PAD)


def test_bad_sizes_are_user_errors():
    with pytest.raises(tasks.UserError, match="distinct sources"):
        tasks.make_data("reverse", 100, 10, 10, min_words=1, max_words=1)
    with pytest.raises(tasks.UserError, match="min-words"):
        tasks.make_data("reverse", 100, 10, 10, min_words=5, max_words=2)


def tiny_model(data):
    torch.manual_seed(0)
    cfg = settings.Seq2SeqConfig(d_model=16, heads=2, encoder_layers=2, decoder_layers=2, ff_size=32)
    return nets.Seq2SeqTransformer(**cfg.model_config(data)).eval()


def test_output_shapes(data):
    model = tiny_model(data)
    src, tgt = data.tensors(data.test)
    logits = model(src[:4], tgt[:4, :-1])
    assert logits.shape == (4, data.max_target_len - 1, len(data.target_vocab))
    ids, weights = model.greedy_decode(src[:4])
    assert ids.shape[0] == 4 and ids.shape[1] <= data.max_target_len - 1
    assert len(weights) == 2 and weights[0].shape == (4, 2, ids.shape[1], data.max_source_len)
    assert torch.allclose(weights[-1].sum(-1), torch.ones(4, 2, ids.shape[1]), atol=1e-5)


def test_causal_mask_hides_later_target_tokens(data):
    model = tiny_model(data)
    src, tgt = data.tensors(data.test)
    tgt_in = tgt[:3, :-1].clone()
    before = model(src[:3], tgt_in)
    tgt_in[:, 4] = 3  # another word as the fifth decoder input
    after = model(src[:3], tgt_in)
    assert torch.allclose(before[:, :4], after[:, :4], atol=1e-6)
    assert not torch.allclose(before[:, 4:], after[:, 4:])


def test_source_padding_is_invisible():
    """A sentence padded to the longest length gives the same logits as the sentence alone."""
    data = tasks.make_data("reverse", 50, 5, 5, seed=0)
    model = tiny_model(data)
    src, tgt = data.tensors(data.test)
    i = next(i for i, s in enumerate(data.test.sources) if len(s) < 8)
    n = len(data.test.sources[i]) + 1  # the words and <eos>
    assert torch.all(src[i, n:] == tasks.Vocab.PAD)
    alone = model(src[i : i + 1, :n], tgt[i : i + 1, :-1])
    assert torch.allclose(model(src[i : i + 1], tgt[i : i + 1, :-1]), alone, atol=1e-5)
    _, weights = model.greedy_decode(src[i : i + 1])
    assert torch.all(weights[0][..., n:] == 0)  # no cross-attention on the padding


def test_greedy_decoding_agrees_with_teacher_forcing(data):
    """Fed its own greedy output as the 'true' targets, the parallel pass picks the same tokens."""
    model = tiny_model(data)
    src, _ = data.tensors(data.test)
    ids, _ = model.greedy_decode(src[:6], max_len=5)
    bos = torch.full((6, 1), tasks.Vocab.BOS)
    logits = model(src[:6], torch.cat([bos, ids[:, :-1]], dim=1))
    eos = (ids == tasks.Vocab.EOS).int()
    live = eos.cumsum(1) - eos == 0  # up to and including the first <eos>; <pad> after it
    assert torch.equal(logits.argmax(-1)[live], ids[live])


@pytest.mark.slow
@pytest.mark.parametrize("task", tasks.TASKS)
def test_smoke_run_writes_every_artifact(task, tmp_path):
    curves = task == tasks.TASKS[0]  # live curves for one task, --no-tensorboard for the other
    proc = run_script(TRAIN, "--task", task, "--smoke", "--out-dir", tmp_path,
                      "--tensorboard" if curves else "--no-tensorboard")
    run = tmp_path / f"smoke-seq2seq-{task}"
    for name in ("config.json", "metrics.json", "loss_curve.png", "attention.png", "model.pt"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    m = read_json(run / "metrics.json")
    for key in ("test_exact_match", "test_token_accuracy", "val_exact_match", "val_token_accuracy"):
        assert math.isfinite(m[key]) and 0 <= m[key] <= 1, key
    assert m["task"] == task and m["params"] > 0 and m["train_seconds"] > 0
    assert (m["train_size"], m["val_size"], m["test_size"]) == (400, 50, 50)
    # Even the smoke run learns something: below the loss of guessing uniformly.
    vocab = len(tasks.make_data(task, 1, 1, 1).target_vocab)
    assert m["test_loss"] < math.log(vocab)
    assert "test: exact match" in proc.stdout
    if curves:  # the points of the history, as the run went
        points = scalars(run)
        assert set(points) == {"loss/train", "learning_rate", "loss/val", "exact_match/val"}
        assert [step for step, _ in points["loss/train"]] == m["history"]["step"]
        assert [v for _, v in points["exact_match/val"]] == pytest.approx(m["history"]["val_exact_match"])
    else:
        assert not (run / "tensorboard").exists()
    checkpoint = torch.load(run / "model.pt", weights_only=True)
    model = nets.Seq2SeqTransformer(**checkpoint["model_config"])
    model.load_state_dict(checkpoint["model_state"])


@pytest.mark.slow
def test_bad_settings_get_one_line_errors(tmp_path):
    # One as a subprocess (run_main prints one line, exit status 2), the others in this process.
    proc = run_script(TRAIN, "--smoke", "--d-model", "10", "--heads", "4", "--out-dir", tmp_path,
                      check=False)
    assert_one_line_error(proc, "multiple of --heads")
    for flags, fragment in ((["--train-size", "900000", "--task", "number-words"], "distinct"),
                            (["--steps", "0"], "--steps")):
        assert_user_error(TRAIN, "--smoke", *flags, "--out-dir", tmp_path, fragments=(fragment,))


def test_report_is_up_to_date_and_notices_an_edit(tmp_path):
    assert call_main(TRAIN, "--report", "--check") == 0
    page = tmp_path / "page.md"
    page.write_text("<!-- begin: seq2seq-results -->\nold\n<!-- end: seq2seq-results -->\n")
    with project_folder(SEQ2SEQ):  # train.py imports its neighbours, report() why_attention.py
        train = load_stage_config(SEQ2SEQ / "train.py")
        assert train.report(check=True, page=page) == 1
        assert train.report(page=page) == 0 and train.report(check=True, page=page) == 0
    text = page.read_text()
    for task in tasks.TASKS:
        m = read_json(SEQ2SEQ / "results" / f"reference-seq2seq-{task}" / "metrics.json")
        assert f"| {task} | {m['params']:,} |" in text and f"{m['test_exact_match']:.2%}" in text


# --- why attention ----------------------------------------------------------------------------

def test_translator_by_hand():
    """Lexish: subject, object, (prepositional phrase,) verb; adjectives after the noun, mirrored."""
    cases = {
        "the dog sees a cat": "lo hundo un kato vidas",
        "the big red dog sees a cat near the old tree":
            "lo hundo roso granda un kato lo arbo vetra apud vidas",
        "a happy child likes the small blue bird": "un kido gaja lo birdo bleva peta amas",
    }
    for english, lexish in cases.items():
        assert tasks.translate(english.split()) == lexish.split()
    assert len(tasks.LEXICON) >= 30 and len(set(tasks.LEXICON.values())) == len(tasks.LEXICON)


def test_sources_of_length_counts_every_sentence():
    # five words: "det noun verb det noun", 2 x 12 nouns x 8 verbs x 2 x 12
    assert tasks.sources_of_length("translate", 5) == 2 * 12 * 8 * 2 * 12
    assert tasks.sources_of_length("number-words", 1) == 10
    assert tasks.sources_of_length("number-words", 3) == 900
    assert tasks.TRANSLATE_LENGTHS == (5, 14)


@pytest.fixture(scope="module", params=tasks.LENGTH_TASKS)
def length_data(request):
    train_len, test_len = {"reverse": (5, 7), "number-words": (4, 6), "translate": (8, 11)}[request.param]
    data = tasks.make_length_data(request.param, train_len, test_len, train_size=1500,
                                  val_size=100, test_per_length=40, seed=0)
    return data, train_len, test_len


def test_length_split_is_respected(length_data):
    data, train_len, test_len = length_data
    assert max(len(s) for s in data.train.sources + data.val.sources) == train_len
    test_lengths = {len(s) for s in data.test.sources}
    assert max(test_lengths) == test_len and {n for n in test_lengths if n > train_len}
    assert all(test_lengths & {n} for n in range(train_len + 1, test_len + 1))  # every longer length
    for source, target in zip(data.test.sources, data.test.targets, strict=True):
        assert target == tasks.target_of(data.task, source)
    src, tgt = data.tensors(data.test)  # the tensors hold the longest test source
    assert src.shape[1] == test_len + 1


def test_no_test_source_in_training(length_data):
    data, _, _ = length_data
    train = {tuple(s) for s in data.train.sources} | {tuple(s) for s in data.val.sources}
    test = [tuple(s) for s in data.test.sources]
    assert len(set(test)) == len(test) and not train & set(test)


def test_training_length_longer_than_test_is_a_user_error():
    with pytest.raises(tasks.UserError, match="longer than the test length"):
        tasks.make_length_data("translate", 12, 10, 100, 10, 5)


def test_bahdanau_score_by_hand():
    """v . tanh(W_q q + W_k k_j) with W_q = I, W_k = diag(2, 1), v = (1, -1), q = (1, 0):
    k_1 = (0, 0): tanh(1, 0) -> tanh 1 = 0.761594; k_2 = (1, 1): tanh(3, 1) -> tanh 3 - tanh 1."""
    att = rnns.AdditiveAttention(2, 2, 2)
    with torch.no_grad():
        att.query_proj.weight.copy_(torch.eye(2))
        att.key_proj.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
        att.v.weight.copy_(torch.tensor([[1.0, -1.0]]))
    keys = torch.tensor([[[0.0, 0.0], [1.0, 1.0]]])  # (batch 1, S 2, 2)
    scores = att.scores(torch.tensor([[1.0, 0.0]]), att.project_keys(keys))
    assert torch.allclose(scores, torch.tensor([[0.7615942, 0.9950548 - 0.7615942]]), atol=1e-6)


def test_luong_general_score_and_attend_by_hand():
    """q . (W k_j) with W = [[1, 0], [1, 1]], q = (1, 2): k_1 = (1, 0) -> W k_1 = (1, 1) -> 3;
    k_2 = (0, 1) -> (0, 1) -> 2; k_3 = (5, 5) -> (5, 10) -> 25, but it is padding: its weight is 0
    and the softmax is e^3 / (e^3 + e^2) = 0.731059 and 0.268941."""
    att = rnns.GeneralAttention(2, 2)
    with torch.no_grad():
        att.W.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
    memory = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]])
    scores = att.scores(torch.tensor([[1.0, 2.0]]), att.project_keys(memory))
    assert torch.allclose(scores, torch.tensor([[3.0, 2.0, 25.0]]))
    weights, context = rnns.attend(scores, torch.tensor([[True, True, False]]), memory)
    assert torch.allclose(weights, torch.tensor([[0.731059, 0.268941, 0.0]]), atol=1e-6)
    assert torch.allclose(context, torch.tensor([[0.731059, 0.268941]]), atol=1e-6)


@pytest.mark.parametrize("kind", rnns.ATTENTION)
def test_recurrent_decoder_shapes_and_attention_sums_to_one(kind):
    data = tasks.make_length_data("translate", 8, 10, 200, 20, 5, seed=1)
    torch.manual_seed(0)
    model = rnns.RecurrentSeq2Seq(len(data.source_vocab), len(data.target_vocab), data.max_target_len,
                                  d_model=16, hidden_size=16, attention=kind).eval()
    src, tgt = data.tensors(data.test)
    logits = model(src[:5], tgt[:5, :-1])
    assert logits.shape == (5, data.max_target_len - 1, len(data.target_vocab))
    ids, maps = model.greedy_decode(src[:5])
    assert ids.shape[0] == 5 and ids.shape[1] <= data.max_target_len - 1
    # Fed its own greedy output, teacher forcing picks the same words.
    bos = torch.full((5, 1), tasks.Vocab.BOS)
    forced = model(src[:5], torch.cat([bos, ids[:, :-1]], dim=1)).argmax(-1)
    eos = (ids == tasks.Vocab.EOS).int()
    live = eos.cumsum(1) - eos == 0
    assert torch.equal(forced[live], ids[live])
    if kind == "none":
        assert maps == []
        return
    (weights,) = maps  # (batch, 1, steps, S)
    assert weights.shape == (5, 1, ids.shape[1], data.max_source_len)
    assert torch.allclose(weights.sum(-1), torch.ones(5, 1, ids.shape[1]), atol=1e-5)
    padding = (src[:5] == tasks.Vocab.PAD)[:, None, None, :].expand_as(weights)
    assert torch.all(weights[padding] == 0)


@pytest.mark.slow
def test_why_attention_smoke_run_writes_every_artifact(tmp_path):
    proc = run_script(WHY, "--smoke", "--out-dir", tmp_path)
    run = tmp_path / "smoke-why-attention"
    for name in ("config.json", "metrics.json", "exact_match_by_length.png", "attention.png"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    m = read_json(run / "metrics.json")
    assert len(m["runs"]) == len(tasks.LENGTH_TASKS) * 4 * read_json(run / "config.json")["seeds"]
    for r in m["runs"]:
        assert 0 <= r["exact_match_seen"] <= 1 and 0 <= r["exact_match_longer"] <= 1
        assert r["params"] > 0 and r["train_seconds"] > 0
        if r["task"] == "translate":
            assert 0 <= r["chrf_seen"] <= 100 and 0 <= r["chrf_longer"] <= 100
    for task in tasks.LENGTH_TASKS:
        assert set(m["summary"][task]) == {"gru", "bahdanau", "luong", "transformer"}
        assert set(m["attention_examples"][task]) == {"bahdanau", "luong", "transformer"}
        train_len, test_len = m["data"][task]["lengths"]
        for r in (r for r in m["runs"] if r["task"] == task):
            # every run is scored at every test length, beyond training included
            assert max(map(int, r["exact_match_by_length"])) == test_len > train_len
        for name, example in m["attention_examples"][task].items():
            # one map per model, read from a test source longer than any in training: a row per
            # written token, a column per source token (its end mark included), each row a
            # distribution over the source
            weights = example["weights"]
            assert len(example["source"]) > train_len, (task, name)
            assert len(weights) == len(example["written"]), (task, name)
            assert all(len(row) == len(example["source"]) for row in weights), (task, name)
            assert all(abs(sum(row) - 1) < 1e-4 and min(row) >= 0 for row in weights), (task, name)
    assert m["wall_seconds"] > 0 and "wrote" in proc.stdout


@pytest.mark.slow
def test_why_attention_bad_lengths_get_one_line_errors(tmp_path):
    # One as a subprocess (run_main prints one line, exit status 2), the others in this process.
    proc = run_script(WHY, "--smoke", "--reverse-train-words", "9", "--reverse-test-words", "7",
                      "--out-dir", tmp_path, check=False)
    assert_one_line_error(proc, "longer than the test length")
    assert not (tmp_path / "smoke-why-attention" / "metrics.json").exists()
    for flags, fragment in ((["--translate-test-words", "20"], "lengths must lie in"),
                            (["--models", "gru,lstm"], "--models")):
        assert_user_error(WHY, "--smoke", *flags, "--out-dir", tmp_path, fragments=(fragment,))
        assert not (tmp_path / "smoke-why-attention" / "metrics.json").exists()


def test_why_attention_report_is_up_to_date():
    assert call_main(WHY, "--report", "--check") == 0


def test_why_attention_answers_help():
    text = help_text(WHY)
    for flag in ("--seeds", "--reverse-train-words", "--translate-test-words", "--smoke", "--steps"):
        assert flag in text, flag
