"""tools/: the generated-section writer and the by-path module loader."""

from conftest import ROOT

from tools import reporting
from tools.loader import load_stage_config


def test_generated_section_replacement(tmp_path):
    table = reporting.markdown_table(["model", "params"], [["lstm", 1221249]])
    assert table == "| model | params |\n|---|---|\n| lstm | 1,221,249 |"
    doc = tmp_path / "README.md"
    doc.write_text("intro\n<!-- begin: results -->\nold\n<!-- end: results -->\nmore\n")
    assert reporting.update_section(doc, "results", "new", check=True) is False
    assert "old" in doc.read_text()  # check mode changes nothing
    assert reporting.update_section(doc, "results", "new") is False
    assert doc.read_text() == "intro\n<!-- begin: results -->\nnew\n<!-- end: results -->\nmore\n"
    assert reporting.update_section(doc, "results", "new", check=True) is True


def test_load_stage_config_by_path():
    module = load_stage_config(ROOT / "TinyLLM" / "config.py")
    assert module.TinyConfig().model in module.MODELS
    assert module.TinyConfig(hidden_size=8).model_config(10)["hidden_size"] == 8
