from pathlib import Path

import pytest
from pydantic import ValidationError

from modelgate.config import Settings


def test_default_database_is_sqlite_in_home(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "h")
    assert s.sqlalchemy_url == f"sqlite:///{(tmp_path / 'h' / 'modelgate.db').resolve()}"


@pytest.mark.parametrize("var", ["MODELGATE_DATABASE_URL", "DATABASE_URL"])
def test_postgres_urls_select_psycopg3(monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "postgresql://u@db:5432/mg")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@db:5432/mg"


def test_prefixed_variable_wins_over_conventional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://a@x/one")
    monkeypatch.setenv("MODELGATE_DATABASE_URL", "postgres://b@y/two")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://b@y/two"


def test_stages_from_env_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGATE_STAGES", '["dev","production"]')
    assert Settings().stages == ["dev", "production"]
    with pytest.raises(ValidationError, match="implicit"):
        Settings(stages=["dev", "archived"])
    with pytest.raises(ValidationError, match="unique"):
        Settings(stages=["dev", "dev"])
