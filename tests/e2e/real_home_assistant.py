"""A real Home Assistant process with the demo configuration, for the e2e test.

`RealHomeAssistant` copies config/ into a temporary folder (so the test never
touches a developer's demo), picks a free loopback port, prepares the folder
with scripts/lib/dev_config.py as scripts/develop does, starts
``python -m homeassistant --skip-pip`` in its own process group, logs in as
the development user through the same login flow the web page uses, and
talks to it over REST and the websocket API. `stop` ends the whole process
group: nothing is left running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
import itertools
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_CONFIG = REPO_ROOT / "scripts" / "lib" / "dev_config.py"
DEV_USERNAME = "dev"
DEV_PASSWORD = "dev"  # the documented local development login

# What is not copied from config/: a developer's runtime state.
RUNTIME_FILES = (
    ".storage",
    "home-assistant_v2.db*",
    "home-assistant.log*",
    ".HA_VERSION",
    "deps",
    "tts",
    "__pycache__",
    "ev_sessions",  # the link to the package; dev_config.py makes it anew
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def kill_process_group(process: subprocess.Popen[bytes], grace_s: float) -> int | None:
    """Ask a process group to stop (SIGTERM), then force it (SIGKILL).

    Returns the leader's exit code, or None if it had to be killed.
    """
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group
        return process.returncode
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        code = process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        code = None
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return code


class HomeAssistantError(AssertionError):
    """Home Assistant answered something the test did not expect."""


class RealHomeAssistant:
    """One Home Assistant process on a copy of config/."""

    def __init__(self, workdir: Path) -> None:
        """Prepare nothing yet; `workdir` holds the copy and the log."""
        self.workdir = workdir
        self.config_dir = workdir / "config"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.config_dir / "home-assistant.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, Any] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ws_reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._results: dict[int, asyncio.Future[Any]] = {}
        self._events: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self.start_seconds: float | None = None

    # ------------------------------------------------------------ lifecycle

    def prepare(self, simulator_yaml: str) -> str:
        """Copy config/, set the port and the simulator; return dev_config's output."""
        shutil.copytree(
            REPO_ROOT / "config",
            self.config_dir,
            ignore=shutil.ignore_patterns(*RUNTIME_FILES),
            symlinks=False,
        )
        configuration = self.config_dir / "configuration.yaml"
        text = configuration.read_text(encoding="utf-8")
        if "server_port: 8123" not in text:
            raise HomeAssistantError(
                "config/configuration.yaml has no server_port: 8123"
            )
        configuration.write_text(
            text.replace("server_port: 8123", f"server_port: {self.port}"),
            encoding="utf-8",
        )
        (self.config_dir / "simulator.yaml").write_text(
            simulator_yaml, encoding="utf-8"
        )
        result = subprocess.run(  # noqa: S603 - our own script, our own interpreter
            [sys.executable, str(DEV_CONFIG), str(self.config_dir)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if result.returncode != 0:
            raise HomeAssistantError(
                f"dev_config.py failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    async def start(self, timeout_s: float) -> None:
        """Start Home Assistant and wait until it runs and we are logged in."""
        started = time.monotonic()
        output = (self.workdir / "hass.out").open("wb")
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - returns at once
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(self.config_dir),
                "--skip-pip",
                "--log-no-color",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Not the repository: `python -m` puts the working directory first
            # on sys.path, and the repository's custom_components package
            # would hide config/custom_components (the simulator).
            cwd=self.workdir,
            start_new_session=True,
        )
        output.close()
        self._session = aiohttp.ClientSession()
        async with asyncio.timeout(timeout_s):
            await self._wait_http()
            await self._login()
            await self._connect_websocket()
            while (await self.ws("get_config"))["state"] != "RUNNING":
                self.check_alive()
                await asyncio.sleep(0.5)
        self.start_seconds = time.monotonic() - started

    def check_alive(self) -> None:
        """Fail with the log's tail if Home Assistant has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise HomeAssistantError(
                f"Home Assistant exited with {self.process.returncode}:\n"
                + self.log_tail()
            )

    def log_tail(self, lines: int = 60) -> str:
        """Return the end of Home Assistant's log (or its console output)."""
        for path in (self.log_path, self.workdir / "hass.out"):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                if text.strip():
                    return "\n".join(text.splitlines()[-lines:])
        return "(no log)"

    async def _wait_http(self) -> None:
        assert self._session is not None
        while True:
            self.check_alive()
            # Needs no login, so waiting leaves no failed-login warnings.
            with contextlib.suppress(aiohttp.ClientError):
                async with self._session.get(f"{self.base_url}/auth/providers") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.5)

    async def _login(self) -> None:
        """Log in as the web page does: login flow, then an authorization code."""
        assert self._session is not None
        client_id = f"{self.base_url}/"
        async with self._session.post(
            f"{self.base_url}/auth/login_flow",
            json={
                "client_id": client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{client_id}?auth_callback=1",
            },
        ) as resp:
            flow = await self._json(resp)
        async with self._session.post(
            f"{self.base_url}/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": client_id,
                "username": DEV_USERNAME,
                "password": DEV_PASSWORD,
            },
        ) as resp:
            step = await self._json(resp)
        if step.get("type") != "create_entry":
            raise HomeAssistantError(f"login as {DEV_USERNAME!r} failed: {step}")
        async with self._session.post(
            f"{self.base_url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": step["result"],
                "client_id": client_id,
            },
        ) as resp:
            self.tokens = await self._json(resp)

    @staticmethod
    async def _json(resp: aiohttp.ClientResponse) -> Any:
        text = await resp.text()
        if resp.status >= 400:
            raise HomeAssistantError(f"{resp.method} {resp.url}: {resp.status} {text}")
        return json.loads(text)

    async def stop(self, grace_s: float = 60) -> int | None:
        """Stop Home Assistant (and everything it started); return its exit code."""
        if self._ws_reader is not None:
            self._ws_reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ws_reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self.process is None:
            return None
        return await asyncio.to_thread(kill_process_group, self.process, grace_s)

    # ------------------------------------------------------------------ REST

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    async def rest(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None
    ) -> Any:
        """Call the REST API; return the decoded answer."""
        assert self._session is not None
        async with self._session.request(
            method, f"{self.base_url}{path}", headers=self._headers, json=payload
        ) as resp:
            return await self._json(resp)

    async def state(self, entity_id: str) -> dict[str, Any]:
        """Return an entity's state object from the REST API."""
        result: dict[str, Any] = await self.rest("GET", f"/api/states/{entity_id}")
        return result

    # ------------------------------------------------------------- websocket

    async def _connect_websocket(self) -> None:
        assert self._session is not None
        self._ws = await self._session.ws_connect(f"{self.base_url}/api/websocket")
        hello = await self._ws.receive_json()
        if hello["type"] != "auth_required":
            raise HomeAssistantError(f"websocket: {hello}")
        await self._ws.send_json(
            {"type": "auth", "access_token": self.tokens["access_token"]}
        )
        answer = await self._ws.receive_json()
        if answer["type"] != "auth_ok":
            raise HomeAssistantError(f"websocket login: {answer}")
        self._ws_reader = asyncio.create_task(self._read_websocket())

    async def _read_websocket(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:
                if item["type"] == "event" and item["id"] in self._events:
                    self._events[item["id"]].put_nowait(item["event"])
                elif item["type"] == "result" and item["id"] in self._results:
                    future = self._results.pop(item["id"])
                    if item["success"]:
                        future.set_result(item.get("result"))
                    else:
                        future.set_exception(
                            HomeAssistantError(f"websocket: {item['error']}")
                        )

    async def ws(self, message_type: str, **fields: Any) -> Any:
        """Send one websocket command and return its result."""
        assert self._ws is not None
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[message_id] = future
        await self._ws.send_json({"id": message_id, "type": message_type, **fields})
        async with asyncio.timeout(60):
            return await future

    async def subscribe_events(self, event_type: str) -> asyncio.Queue[dict[str, Any]]:
        """Return a queue that receives every `event_type` event from now on."""
        assert self._ws is not None
        message_id = next(self._ids)
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._events[message_id] = queue
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[message_id] = future
        await self._ws.send_json(
            {"id": message_id, "type": "subscribe_events", "event_type": event_type}
        )
        await future
        return queue
