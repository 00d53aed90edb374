"""A short run of config/scripts/faults.py: workers killed mid-run, Redis stopped during a run,
PostgreSQL stopped during a web request, each on a PostgreSQL and a Redis the script starts for
itself (loopback, ports of their own) and stops again. docs/reliability.md gives the full run."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "config" / "scripts" / "faults.py"
# Ports of this test's own servers, apart from the full script's defaults.
PORTS = ["--pg-port", os.environ.get("FAULTS_PG_PORT", "55452"), "--redis-port",
         os.environ.get("FAULTS_REDIS_PORT", "56399"), "--web-port", os.environ.get("FAULTS_WEB_PORT", "58020")]


@pytest.mark.faults
def test_killed_workers_a_stopped_redis_and_a_stopped_postgresql_lose_and_double_nothing(tmp_path):
    out = tmp_path / "faults.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELEDGER_TEST_")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--kills", "2", "--jobs", "dpa_accrual", "dp-payments", "dpa_statements",
         "--redis-trials", "2", "--redis-pause", "5", "--redis-job", "dpa_statements", "--pg-trials", "2",
         "--budget", "1200", "--json", str(out), *PORTS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    kills = results["kills"]["totals"]
    assert kills["runs"] == kills["kills"] == kills["identical"] == 6 and kills["differing"] == 0
    assert all(job["stable"] for job in results["kills"]["jobs"].values())
    redis = results["redis"]
    assert redis["trials"] == redis["identical"] == 2
    assert redis["half_written"] == redis["failed_items"] == redis["differing"] == 0
    assert redis["start_refused_clearly"] == redis["stopped_before_start"] == 1
    # Redis came back empty: beat's watchdog queued the lost chunks again, with no one's help.
    assert redis["finished_on_their_own"] == 2 and redis["resumed_by_hand"] == 0
    assert redis["resumed_by_watchdog"] >= 1  # the run started while Redis was down had nothing queued
    pg = results["pg"]
    assert pg["trials"] == pg["first_request_after_restart_ok"] == pg["pages_while_down_error_page"] == 2
    # As in production, gunicorn kept its connection across requests: the restart broke it, and the
    # health check replaced it (CONN_MAX_AGE, CONN_HEALTH_CHECKS).
    assert pg["web_connection_kept_before_stop"] == 2
    assert pg["half_written"] == pg["tracebacks_shown"] == pg["other_answers"] == 0
