"""`versectl probe-stream` as a user runs it: a subprocess, exit codes, stdout, no traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.probe.cli import run_probe
from tests.probe.servers import closed_port
from tests.support.backend_server import running_backend
from tests.support.scripted_server import Plan, Step, scripted_server, sse_tokens

SECRET = "s3cret-cookie-value"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_probe(*args, env=env, columns=120)


def _held_plan(count: int = 40) -> Plan:
    events = b"".join(step.data for step in sse_tokens(count, 0))
    return Plan([Step(0.5, events)])


def test_command_streaming_exits_0_with_one_json_document() -> None:
    with scripted_server(Plan(sse_tokens(15, 0.02))) as server:
        done = _run(server.url + "/api/x", "--format", "json", "-b", f"verse_session={SECRET}")
        assert server.requests[0].headers["cookie"] == f"verse_session={SECRET}"
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # the whole of stdout is one document
    assert document["results"][0]["verdict"] == "streaming"
    assert SECRET not in done.stdout + done.stderr


def test_command_buffered_exits_1_and_explains() -> None:
    with scripted_server(_held_plan()) as server:
        done = _run(server.url + "/api/x", "-b", f"verse_session={SECRET}")
    assert done.returncode == 1, done.stderr
    assert "buffered" in done.stdout and "of silence" in done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_command_inconclusive_exits_3() -> None:
    with scripted_server(Plan(sse_tokens(5, 0.001))) as server:
        done = _run(server.url + "/api/x", "--format", "json")
    assert done.returncode == 3, done.stderr
    assert "too short to tell" in json.loads(done.stdout)["results"][0]["evidence"]


def test_command_connection_refused_exits_2_with_the_error_in_json() -> None:
    done = _run(f"http://127.0.0.1:{closed_port()}/api/chat/message", "--format", "json")
    assert done.returncode == 2
    result = json.loads(done.stdout)["results"][0]
    assert result["verdict"] == "error" and result["error"]["kind"] == "connect"
    assert "Traceback" not in done.stderr


def test_command_headers_then_nothing_times_out_exit_2() -> None:
    with scripted_server(Plan(sse_tokens(2, 0.01, done=False), hang_after=True)) as server:
        done = _run(server.url, "--timeout", "0.5", "--format", "json")
    assert done.returncode == 2
    result = json.loads(done.stdout)["results"][0]
    assert result["error"]["kind"] == "timeout" and result["events"] == 2


def test_command_bad_input_is_one_clean_line(tmp_path: Path) -> None:
    for args in (
        ["ftp://x/y"],
        ["http://h/x", "-d", "{oops"],
        ["http://h/x", "-d", f"@{tmp_path}/missing.json"],
        ["http://h/x", "-H", "broken"],
        ["http://h/x", "--direct", "nope"],
        ["http://h/x", "-n", "0"],
        ["https://h/x", "--http2", "--http1.1"],
        ["https://h/x", "--cacert", f"{tmp_path}/missing.pem"],
    ):
        done = _run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.strip(), args
        assert done.stdout == "", args


def test_command_direct_attribution_between_two_servers() -> None:
    with (
        scripted_server(Plan(sse_tokens(20, 0.02))) as backend,
        scripted_server(_held_plan(20)) as proxy,
    ):
        done = _run(proxy.url + "/api/x", "--direct", backend.url + "/api/x", "--format", "json")
    assert done.returncode == 1, done.stderr
    target, direct = json.loads(done.stdout)["results"]
    assert direct["verdict"] == "streaming" and target["verdict"] == "buffered"
    assert target["attribution"]["hop"] == "proxy"
    assert target["attribution"]["summary"].startswith("streams at the backend, buffered after it")


def test_command_runs_and_concurrency_aggregate() -> None:
    with scripted_server(Plan(sse_tokens(12, 0.02))) as server:
        done = _run(server.url, "-n", "2", "-c", "3", "--format", "json")
        requests = len(server.requests)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert requests == 6 and result["streams"] == 6
    assert result["aggregate"]["verdicts"] == {"streaming": 6}
    assert len(result["runs"]) == 6


def test_command_login_against_the_real_backend(tmp_path: Path) -> None:
    env = {"VERSE_PASSWORD": "pw-for-test", "VERSE_SIM_TOKEN_MS": "5"}
    with running_backend(tmp_path, env) as base:
        denied = _run(base + "/api/chat/message", "--format", "json")
        wrong = _run(base + "/api/chat/message", "--login", env={"VERSE_PASSWORD": "wrong"})
        done = _run(base + "/api/chat/message", "--login", "--format", "json", env=env)
        # verse_backend allows 2 streams per session: --login gets one session per stream
        many = _run(
            base + "/api/standalone-chat", "--login", "-c", "4", "--format", "json", env=env
        )
    assert denied.returncode == 2
    assert json.loads(denied.stdout)["results"][0]["status"] == 401
    assert wrong.returncode == 2 and "--login" in wrong.stderr and "Traceback" not in wrong.stderr
    assert done.returncode in (0, 3), done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["status"] == 200 and result["tokens"] > 10
    assert result["headers"]["x-accel-buffering"] == "no"
    assert "pw-for-test" not in done.stdout + done.stderr
    assert json.loads(many.stdout)["results"][0]["aggregate"]["verdicts"].get("error", 0) == 0


def test_command_live_view_draws_on_a_terminal_and_leaves_the_table() -> None:
    terminal = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}
    with scripted_server(Plan(sse_tokens(40, 0.02))) as server:
        done = _run(server.url + "/api/x", env=terminal)
    assert done.returncode == 0, done.stderr
    assert "probing" in done.stderr and "events/s" in done.stderr  # frames drawn by the child
    assert "streaming" in done.stdout and "timeline" in done.stdout
    assert "Traceback" not in done.stderr
