"""The embedded FalkorDB server's lifecycle: reuse, stale state, persistence, sharing, reset."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelgenes.cli.app import app
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore


@pytest.fixture()
def server(tmp_path: Path) -> EmbeddedServer:
    srv = EmbeddedServer(tmp_path / "home")
    yield srv
    srv.stop()


def test_starting_twice_reuses_the_running_server(server: EmbeddedServer) -> None:
    first = server.start()
    second = server.start()
    assert first.pid == second.pid and first.port == second.port


def test_server_binds_loopback_with_a_private_password(server: EmbeddedServer) -> None:
    info = server.start()
    mode = stat.S_IMODE((server.data_dir / "password").stat().st_mode)
    assert mode == 0o600
    config = FalkorStore(server.home)._db.connection.config_get("bind")
    assert config["bind"] == "127.0.0.1"
    assert info.port > 0


def test_a_stale_pid_file_is_detected_and_cleaned(server: EmbeddedServer) -> None:
    server.data_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = {"pid": dead.pid, "port": 1, "data_dir": str(server.data_dir), "started_at": 0.0}
    (server.data_dir / "server.json").write_text(json.dumps(state))
    assert server.status() is None
    assert not (server.data_dir / "server.json").exists()
    info = server.start()
    assert info.pid != dead.pid


def test_data_survives_stop_and_start(server: EmbeddedServer) -> None:
    with FalkorStore(server.home) as store:
        store.ensure_schema()
        store.write_rows("UNWIND $rows AS r MERGE (m:Model {id: r.id})", [{"id": f"m{i}"} for i in range(50)])
    assert server.stop()
    assert server.status() is None
    with FalkorStore(server.home) as store:  # starts it again on demand
        assert store.query("MATCH (m:Model) RETURN count(m) AS n")[0]["n"] == 50


def test_stop_when_not_running_says_so(server: EmbeddedServer) -> None:
    assert server.stop() is False


_WRITER = """
import json, sys
from pathlib import Path
from modelgenes.kb.falkor import FalkorStore
store = FalkorStore(Path(sys.argv[1]))
store.ensure_schema()
store.write_rows("UNWIND $rows AS r MERGE (m:Model {id: r.id})", [{"id": sys.argv[2]}])
print(json.dumps({"pid": store.server.status().pid}))
"""


def test_two_processes_share_one_running_server(server: EmbeddedServer) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(server.home), name], stdout=subprocess.PIPE, text=True
        )
        for name in ("first", "second")
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    pids = {json.loads(o)["pid"] for o in outputs}
    assert len(pids) == 1
    with FalkorStore(server.home) as store:
        ids = {r["id"] for r in store.query("MATCH (m:Model) RETURN m.id AS id")}
    assert ids == {"first", "second"}


def test_reset_deletes_everything(server: EmbeddedServer) -> None:
    with FalkorStore(server.home) as store:
        store.query("CREATE (:Model {id: 'x'})")
    server.reset()
    with FalkorStore(server.home) as store:
        assert store.query("MATCH (n) RETURN count(n) AS n")[0]["n"] == 0


def _cli(home: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    env = {**os.environ, "MODELGENES_HOME": str(home)}
    result = CliRunner().invoke(app, list(args), env=env, input=input)
    return result.exit_code, result.output


def test_cli_db_start_status_stop(server: EmbeddedServer) -> None:
    code, out = _cli(server.home, "db", "start", "--format", "json")
    assert code == 0, out
    started = json.loads(out)[0]
    assert started["running"] is True
    code, again = _cli(server.home, "db", "start", "--format", "json")
    assert json.loads(again)[0]["pid"] == started["pid"]
    code, out = _cli(server.home, "db", "status", "--format", "json")
    status = json.loads(out)[0]
    assert status["running"] is True and status["nodes"] == 0
    code, out = _cli(server.home, "db", "stop")
    assert code == 0 and "stopped" in out
    code, out = _cli(server.home, "db", "status", "--format", "json")
    assert json.loads(out)[0]["running"] is False


def test_cli_db_reset_asks_before_deleting(server: EmbeddedServer) -> None:
    with FalkorStore(server.home) as store:
        store.query("CREATE (:Model {id: 'keep-me'})")
    code, _ = _cli(server.home, "db", "reset", input="n\n")
    assert code != 0
    with FalkorStore(server.home) as store:
        assert store.query("MATCH (n:Model) RETURN count(n) AS n")[0]["n"] == 1
    code, out = _cli(server.home, "db", "reset", "--yes")
    assert code == 0, out
    with FalkorStore(server.home) as store:
        assert store.query("MATCH (n:Model) RETURN count(n) AS n")[0]["n"] == 0


def test_a_server_that_stops_answering_is_restarted(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    import modelgenes.kb.falkor as falkor

    with FalkorStore(server.home) as store:
        store.query("CREATE (:Model {id: 'kept'})")
    hung = server.start()
    os.kill(hung.pid, signal.SIGSTOP)  # alive, but answers nothing: as FalkorDB's startup deadlock
    monkeypatch.setattr(falkor.EmbeddedServer.graph_answers, "__defaults__", (0.5,))
    with FalkorStore(server.home) as store:
        assert store.server.status() is not None
        assert store.server.status().pid != hung.pid  # type: ignore[union-attr]
        assert store.query("MATCH (m:Model) RETURN m.id AS id") == [{"id": "kept"}]
