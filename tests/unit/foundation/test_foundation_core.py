"""Settings, clock, errors, logging: plain values, no servers."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.errors import ConfigurationError, MaestroError
from maestro.logs import JsonFormatter, correlation_id, redact
from maestro.urls import redact_url


def test_defaults_are_the_embedded_profile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.load()
    assert s.database_url.startswith("sqlite+aiosqlite://")
    assert s.coord_url == "memory://"


def test_environment_overrides_with_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_COORD_URL", "redis://cache:6379/0")
    monkeypatch.setenv("MAESTRO_API__PORT", "9100")
    s = Settings.load()
    assert s.coord_url == "redis://cache:6379/0"
    assert s.api.port == 9100


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "custom.toml"
    cfg.write_text('coord_url = "redis://toml:6379/0"\nkey_prefix = "x:"\n[api]\nport = 7000\n')
    monkeypatch.setenv("MAESTRO_CONFIG", str(cfg))
    monkeypatch.setenv("MAESTRO_KEY_PREFIX", "env:")
    s = Settings.load()
    assert s.coord_url == "redis://toml:6379/0"
    assert s.api.port == 7000
    assert s.key_prefix == "env:"


def test_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAESTRO_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigurationError, match="absent.toml"):
        Settings.load()


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("database_url", "mysql://x/y", "sqlite+aiosqlite, postgresql+asyncpg"),
        ("coord_url", "memcached://x", "memory, redis, rediss"),
    ],
)
def test_unknown_url_schemes_name_the_accepted_ones(field: str, value: str, accepted: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        Settings.load(**{field: value})
    assert err.value.field == field
    assert accepted in err.value.message


def test_redact_url_hides_passwords() -> None:
    assert "s3cret" not in redact_url("postgresql+asyncpg://u:s3cret@h/db")
    assert "***" in redact_url("postgresql+asyncpg://u:s3cret@h/db")


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(100.0)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 5))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    clock.advance(6)
    await asyncio.sleep(0)
    assert woke == ["early"]
    clock.advance(4)
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    assert clock.time() == 110.0


def test_manual_clock_cannot_go_back() -> None:
    with pytest.raises(ValueError):
        ManualClock().advance(-1)


def test_errors_carry_code_status_and_field() -> None:
    from maestro import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, MaestroError)
        assert isinstance(cls.code, str) and 400 <= cls.status < 600
    exc = errors.ValidationError("bad", field="x")
    assert (exc.code, exc.status, exc.field) == ("validation_error", 422, "x")


def test_json_logs_carry_correlation_id_and_hide_secrets() -> None:
    record = logging.LogRecord(
        "maestro.test",
        logging.INFO,
        __file__,
        1,
        "key mk_0123abcd_SECRETSECRET url postgresql://u:pw@h/db",
        None,
        None,
    )
    token = correlation_id.set("run-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        correlation_id.reset(token)
    assert line["correlation_id"] == "run-42"
    assert "SECRETSECRET" not in line["msg"] and ":pw@" not in line["msg"]
    assert redact("sk-abcdefghijkl") == "***"
