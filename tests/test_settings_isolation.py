"""The suite runs on the same settings in any shell.

A shell that holds a development or production server's variables (DATABASE_URL,
CELERY_BROKER_URL, REDIS_URL, CACHE_URL, and a DJANGO_SETTINGS_MODULE naming other settings)
must not point the tests at that server's database, broker or cache: config/settings/test.py
reads its services from CARELEDGER_TEST_* variables only, and pyproject.toml passes
--ds=config.settings.test to pytest. Each check runs in a fresh interpreter with such a shell's
variables.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

AMBIENT = {
    "DATABASE_URL": "postgres://nowhere/x",
    "CELERY_BROKER_URL": "redis://nowhere",
    "REDIS_URL": "redis://nowhere/3",
    "CACHE_URL": "redis://nowhere/1",
    "DJANGO_SETTINGS_MODULE": "config.settings.dev",
}

REPORT = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print("SETTINGS=" + json.dumps({
    "module": settings.SETTINGS_MODULE, "host": db["HOST"], "port": db["PORT"], "name": db["NAME"],
    "broker": settings.CELERY_BROKER_URL, "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "redis": settings.REDIS_URL, "cache": settings.CACHES["default"]["BACKEND"],
}))
"""


def _shell_env(**extra) -> dict:
    """This process's environment without its CARELEDGER_TEST_* variables, with a stray shell's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_TEST_")}
    env.pop("PYTEST_ADDOPTS", None)
    return {**env, **AMBIENT, **extra}


def _reported(output: str) -> dict:
    lines = [line for line in output.splitlines() if line.startswith("SETTINGS=")]
    assert lines, output
    return json.loads(lines[-1].removeprefix("SETTINGS="))


def _assert_loopback_and_eager(found: dict) -> None:
    assert found["module"] == "config.settings.test"
    assert found["host"] == "127.0.0.1" and found["port"] == 5432 and found["name"] == "careledger"
    assert found["broker"] == "" and found["eager"] is True
    assert found["redis"] == "redis://127.0.0.1:6379/15"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_pytest_uses_the_test_settings_whatever_the_shell_holds(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text(f"def test_probe():\n    exec({REPORT!r})\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(probe), "-q", "-s", "-p", "no:randomly",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)],
        cwd=ROOT, env=_shell_env(), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    _assert_loopback_and_eager(_reported(done.stdout))


def test_the_test_settings_ignore_the_services_a_shell_names():
    code = "import django; django.setup()\n" + REPORT
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_shell_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    _assert_loopback_and_eager(_reported(done.stdout))


def test_the_test_settings_take_their_services_from_their_own_variables():
    own = {
        "CARELEDGER_TEST_DATABASE_URL": "postgres://tester@127.0.0.1:5433/careledger_own",
        "CARELEDGER_TEST_CELERY_BROKER_URL": "redis://127.0.0.1:6379/12",
        "CARELEDGER_TEST_REDIS_URL": "redis://127.0.0.1:6379/11",
    }
    code = "import django; django.setup()\n" + REPORT
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT,
        env=_shell_env(DJANGO_SETTINGS_MODULE="config.settings.test", **own),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = _reported(done.stdout)
    assert (found["host"], found["port"], found["name"]) == ("127.0.0.1", 5433, "careledger_own")
    assert found["broker"] == "redis://127.0.0.1:6379/12" and found["eager"] is False
    assert found["redis"] == "redis://127.0.0.1:6379/11"
