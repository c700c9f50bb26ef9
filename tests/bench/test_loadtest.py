"""``make loadtest`` at a tiny size (two users, a few seconds), and its guard against remote targets.

Locust runs in a child process only: importing it here would monkey-patch this test process.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.loadtest import run
from localcloud.child import DevChild
from localcloud.cognito_user import cognito_client

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {
    "apiUrl": "http://127.0.0.1:3001",
    "cognito": {"endpointUrl": "http://127.0.0.1:4566", "userPoolId": "p", "userPoolClientId": "c"},
}


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:3000/config.json", True),
        ("http://localhost:3000/config.json", True),
        ("http://[::1]:3000/config.json", True),
        ("http://127.8.0.1/config.json", True),
        ("https://d111111abcdef8.cloudfront.net/config.json", False),
        ("http://10.0.0.5:3000/config.json", False),
        (None, False),  # no endpoint: real AWS
    ],
)
def test_what_counts_as_this_machine(url: str | None, loopback: bool) -> None:
    assert run.is_loopback(url) is loopback


def test_a_remote_target_is_refused_unless_allowed() -> None:
    run.check_target("http://127.0.0.1:3000/config.json", LOCAL, allow_remote=False)
    deployed: dict[str, Any] = {"apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com", "cognito": {}}
    with pytest.raises(run.RefusedTarget, match=re.escape("apiUrl = https://abc.execute-api")):
        run.check_target("http://127.0.0.1:3000/config.json", deployed, allow_remote=False)
    with pytest.raises(run.RefusedTarget, match=re.escape("cognito.endpointUrl = (AWS)")):
        run.check_target("http://127.0.0.1:3000/config.json", deployed, allow_remote=False)
    run.check_target("https://example.com/config.json", deployed, allow_remote=True)


def test_the_cli_refuses_a_remote_config_url_before_fetching_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--config-url", "https://example.com/config.json"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_bounds_are_enforced() -> None:
    with pytest.raises(SystemExit):
        run.main(["--users", "0"])
    with pytest.raises(SystemExit):
        run.main(["--run-time", str(run.MAX_RUN_SECONDS + 1)])
    with pytest.raises(SystemExit):
        run.main(["--wait", "2,1"])


def test_summary_from_locust_csv(tmp_path: Path) -> None:
    prefix = tmp_path / "lt"
    columns = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    columns += "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    columns += "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
    (tmp_path / "lt_stats.csv").write_text(
        columns
        + "\nGET,/pets,10,1,5,6,1,20,100,2.0,0.2,5,6,7,8,9,12,15,18,20,20,20"
        + "\n,Aggregated,10,1,5,6,1,20,100,2.0,0.2,5,6,7,8,9,12,15,18,20,20,20\n"
    )
    (tmp_path / "lt_failures.csv").write_text("Method,Name,Error,Occurrences\nGET,/pets,HTTPError('500'),1\n")
    markdown, failures = run.summarize(prefix)
    assert failures == 1
    assert "| GET /pets | 10 | 1 | 5 | 12 | 18 | 2.0 |" in markdown
    assert "| **all routes** |" in markdown and "1x GET /pets: HTTPError('500')" in markdown


@pytest.mark.slow
def test_loadtest_runs_signs_users_in_and_deletes_them(bench_dev: DevChild) -> None:
    config_url = f"{bench_dev.web_url}/config.json"
    command = [sys.executable, "benchmarks/loadtest/run.py", "--config-url", config_url]
    command += ["--users", "2", "--run-time", "3", "--wait", "0.05,0.2"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    output = completed.stdout
    assert completed.returncode == 0, output + completed.stderr
    assert "created 2 Cognito users" in output and "deleted 2 of 2 Cognito users" in output
    assert "cognito InitiateAuth (USER_PASSWORD_AUTH)" in output
    # which routes a short run reaches is the users' random choice: at least one of the API's
    api_rows = [line for line in output.splitlines() if line.startswith(("| GET /", "| PUT /", "| POST /"))]
    assert api_rows, output
    assert "errors: 0" in output
    config = bench_dev.config
    users = cognito_client(config).list_users(UserPoolId=config["cognito"]["userPoolId"])["Users"]
    assert not [user for user in users if user["Username"].startswith("loadtest-")], users
