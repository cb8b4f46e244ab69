"""The production files in deploy/ against the code they start, so they cannot drift:
every environment name is one config.py reads, every unit starts a real entry point, and
gunicorn accepts its configuration file and loads the app with it."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
BIN = Path(sys.executable).parent


def example_environment() -> dict[str, str]:
    names: dict[str, str] = {}
    for line in (DEPLOY / "draftflow.env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _sep, value = line.partition("=")
            names[name] = value
    return names


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def test_every_name_in_the_example_environment_is_read_by_the_app() -> None:
    known = set(config._ENV) | {"SECRET_KEY", "REDIS_URL"}
    names = set(example_environment())
    assert names, "the example sets nothing"
    assert names <= known, sorted(names - known)


def test_the_example_environment_gives_the_production_shape(monkeypatch, tmp_path) -> None:
    for name, value in example_environment().items():
        monkeypatch.setenv(name, value)
    built = config.build_config(tmp_path, None)
    assert built["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert built["CELERY_BROKER_URL"].startswith("redis://127.0.0.1")
    assert built["SESSION_COOKIE_SECURE"] is True
    assert built["TRUSTED_PROXIES"] == 1
    assert built["SECRET_KEY"] == "CHANGE-ME"  # from the environment, not a generated file
    assert not (tmp_path / "secret_key").exists()


def test_units_start_the_real_entry_points() -> None:
    names = {path.name for path in UNITS}
    assert names == {
        "draftflow-web.service",
        "draftflow-worker@.service",  # a template: as many workers as wanted
        "draftflow-beat.service",  # and exactly one beat
    }
    for path in UNITS:
        service = unit(path)["Service"]
        assert service["EnvironmentFile"] == "/etc/draftflow/draftflow.env"
        assert service["User"] == "draftflow"
        program, *args = service["ExecStart"].split()
        # The same programs as in this project's virtualenv.
        assert program.startswith("/opt/draftflow/.venv/bin/")
        assert (BIN / Path(program).name).exists(), program
        if "gunicorn" in program:
            assert args[:2] == ["-c", "deploy/gunicorn.conf.py"]
            assert args[2] == '"app:create_app()"'
        else:
            assert args[:2] == ["-A", "tasks"]
            assert args[2] in {"worker", "beat"}
    import tasks.celery  # noqa: F401  (what `celery -A tasks` loads)


def test_gunicorn_takes_the_configuration_and_loads_the_app(tmp_path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite'}",
        "SECRET_KEY": "check",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    done = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "--check-config",
            "-c",
            "deploy/gunicorn.conf.py",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    from gunicorn.config import Config

    settings = Config()
    namespace: dict[str, object] = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8"), namespace)
    chosen = {name for name in namespace if not name.startswith("_") and name != "multiprocessing"}
    assert chosen <= set(settings.settings), sorted(chosen - set(settings.settings))
    assert str(namespace["bind"]).startswith("127.0.0.1:")


def _run_target_public_url(env: dict[str, str], *args: str) -> str:
    """The PUBLIC_URL that `make run` hands the web server and the worker (read, not run)."""
    done = subprocess.run(
        ["make", "-p", "-n", "run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (line,) = (ln for ln in done.stdout.splitlines() if ln.startswith("run: PUBLIC_URL"))
    return line.partition(":=")[2].strip()


def test_make_run_points_mail_links_at_the_port_it_serves() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_URL", "HOST", "PORT")}
    assert _run_target_public_url(env) == "http://127.0.0.1:5000"
    assert _run_target_public_url(env, "PORT=5201") == "http://127.0.0.1:5201"
    assert _run_target_public_url({**env, "PORT": "5202"}) == "http://127.0.0.1:5202"
    assert _run_target_public_url({**env, "PUBLIC_URL": ""}, "PORT=5203") == (
        "http://127.0.0.1:5203"
    )
    behind_proxy = {**env, "PUBLIC_URL": "https://gopy.vks.example"}
    assert _run_target_public_url(behind_proxy, "PORT=5201") == "https://gopy.vks.example"
