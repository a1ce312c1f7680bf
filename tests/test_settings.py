"""Settings precedence (defaults < config file < ASSISTANT_* env < overrides) and clear errors for bad values."""

from __future__ import annotations

import os

import pytest

from assistant import Assistant, Settings
from assistant.core.errors import ConfigError


def _config(tmp_path, body: str):
    path = tmp_path / "assistant.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSISTANT_DATA_DIR")
    settings = Settings.load()
    assert settings.k == 8
    assert settings.chunk_tokens == 160 and settings.chunk_overlap_tokens == 40
    assert settings.collection == "articles"
    assert settings.backend == "verified"
    assert settings.chroma_url is None and settings.allow_remote_chroma is False
    assert settings.min_confidence is None  # the calibrated threshold stored with the reader model
    assert settings.data_dir == str(tmp_path / "xdg" / "news-assistant")  # XDG_DATA_HOME points into tmp_path


def test_default_data_dir_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSISTANT_DATA_DIR")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert Settings.load().data_dir == str(tmp_path / "home" / ".local" / "share" / "news-assistant")


def test_autouse_fixture_keeps_data_out_of_home(tmp_path):
    assert Settings.load().data_dir == str(tmp_path / "default-data")
    assert Assistant().settings.data_dir == str(tmp_path / "default-data")


def test_precedence(monkeypatch, tmp_path):
    config = _config(
        tmp_path, "[assistant]\nk = 3\nchunk_tokens = 100\ncollection = 'from_file'\nmin_confidence = 0.5\n"
    )
    only_file = Settings.load(config)
    assert (only_file.k, only_file.chunk_tokens, only_file.collection, only_file.min_confidence) == (
        3,
        100,
        "from_file",
        0.5,
    )
    assert only_file.chunk_overlap_tokens == 40  # default where the file says nothing

    monkeypatch.setenv("ASSISTANT_K", "5")
    monkeypatch.setenv("ASSISTANT_COLLECTION", "from_env")
    with_env = Settings.load(config)
    assert (with_env.k, with_env.chunk_tokens, with_env.collection) == (5, 100, "from_env")

    with_overrides = Settings.load(config, k=7, collection=None)  # None means "not given"
    assert (with_overrides.k, with_overrides.chunk_tokens, with_overrides.collection) == (7, 100, "from_env")


def test_config_file_from_environment(monkeypatch, tmp_path):
    config = _config(tmp_path, "k = 4\n")  # top-level keys work without an [assistant] table
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    assert Settings.load().k == 4


def test_assistant_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_K", "5")
    assistant = Assistant(data_dir=tmp_path / "store", k=2)
    assert assistant.settings.k == 2
    assert assistant.settings.data_dir == str(tmp_path / "store")


def test_env_conversions(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ALLOW_REMOTE_CHROMA", "yes")
    monkeypatch.setenv("ASSISTANT_EXCLUDE", "draft*, *.bak ,")
    monkeypatch.setenv("ASSISTANT_MIN_CONFIDENCE", "0.2")
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", "")
    monkeypatch.setenv("ASSISTANT_NOT_A_SETTING", "ignored")  # unknown env names are not ours: ignored
    settings = Settings.load()
    assert settings.allow_remote_chroma is True
    assert settings.exclude == ("draft*", "*.bak")
    assert settings.min_confidence == 0.2
    assert settings.chroma_url is None


def test_data_dir_is_absolute_and_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Settings.load(data_dir="~/news").data_dir == os.path.join(str(tmp_path), "news")


def test_unknown_setting_in_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="Unknown setting.*chunk_size"):
        Settings.load(_config(tmp_path, "[assistant]\nchunk_size = 100\n"))


def test_unknown_override_is_an_error():
    with pytest.raises(ConfigError, match="Unknown setting.*top_k"):
        Settings.load(top_k=3)


def test_unknown_assistant_override_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="Unknown setting"):
        Assistant(data_dir=tmp_path, top_k=3)


def test_bad_assistant_override_value_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="k must be at least 1"):
        Assistant(data_dir=tmp_path, k=0)
    with pytest.raises(ConfigError, match="Setting k has an invalid value"):
        Assistant(data_dir=tmp_path, k="lots")


@pytest.mark.parametrize("name, value, message", [
    ("ASSISTANT_K", "abc", "Setting k has an invalid value 'abc'"),
    ("ASSISTANT_EMBED_BATCH_SIZE", "1.5", "Setting embed_batch_size has an invalid value"),
    ("ASSISTANT_MIN_CONFIDENCE", "high", "Setting min_confidence has an invalid value"),
    ("ASSISTANT_ALLOW_REMOTE_CHROMA", "maybe", "Setting allow_remote_chroma has an invalid value"),
    ("ASSISTANT_K", "0", "k must be at least 1"),
    ("ASSISTANT_CHUNK_TOKENS", "300", "chunk_tokens must be between 16 and 240"),
    ("ASSISTANT_CHUNK_OVERLAP_TOKENS", "160", "chunk_overlap_tokens must be"),
])
def test_bad_env_values(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        Settings.load()


def test_bad_int_in_config_file(tmp_path):
    with pytest.raises(ConfigError, match="Setting k has an invalid value 'many'"):
        Settings.load(_config(tmp_path, "[assistant]\nk = 'many'\n"))


def test_missing_or_invalid_config_file(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "missing.toml")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="ASSISTANT_CONFIG"):
        Settings.load()
    with pytest.raises(ConfigError, match="not valid TOML"):
        Settings.load(_config(tmp_path, "k = = 3\n"))


def test_documentation_covers_every_field():
    rows = Settings.documentation()
    names = [name for name, _, _ in rows]
    assert names[0] == "data_dir" and {"k", "chunk_tokens", "backend", "chroma_url"} <= set(names)
    assert all(help_text for _, _, help_text in rows)
    assert dict((n, d) for n, d, _ in rows)["k"] == "8"
