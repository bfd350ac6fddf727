"""Headless Chromium driven over the DevTools protocol, for the e2e test.

Debian's ``chromium`` is started with flags that keep it off the network:
every host name but 127.0.0.1 fails to resolve, and background services
(updates, sync, safe browsing, metrics, translation) are off. A small
DevTools client (aiohttp's websocket) logs the page in by putting the test's
tokens where Home Assistant's frontend keeps them (``localStorage.hassTokens``),
opens pages, reads their text through the shadow DOM and saves screenshots.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
from pathlib import Path
import shutil
import subprocess
import time
from typing import Any

import aiohttp

from .real_home_assistant import kill_process_group

WINDOW = (1400, 1000)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI; the page is our own Home Assistant
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    (
        "--disable-features=Translate,OptimizationHints,MediaRouter,"
        "DialMediaRouteProvider,CertificateTransparencyComponentUpdater,"
        "AutofillServerCommunication,InterestFeedContentSuggestions"
    ),
    "--safebrowsing-disable-auto-update",
    "--metrics-recording-only",
    "--no-pings",
    "--password-store=basic",
    "--use-mock-keychain",
    # Nothing resolves but the loopback address Home Assistant listens on.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--hide-scrollbars",
    "--mute-audio",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Collects the text a person sees, including inside shadow roots (Home
# Assistant's frontend is made of web components).
PAGE_TEXT_JS = """
(() => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return;
    if (node.nodeType === Node.ELEMENT_NODE) {
      const tag = node.tagName;
      if (tag === 'SCRIPT' || tag === 'STYLE' || tag === 'TEMPLATE') return;
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  return parts.join(' ').replace(/\\s+/g, ' ').trim();
})()
"""


def find_chromium() -> str | None:
    """Return the path of Chromium, or None when it is not installed."""
    for name in (
        os.environ.get("EV_SESSIONS_CHROMIUM"),
        "chromium",
        "chromium-browser",
    ):
        if name and (path := shutil.which(name)):
            return path
    return None


class BrowserError(AssertionError):
    """The page did not show what it should."""


class HeadlessChromium:
    """One headless Chromium with one page."""

    def __init__(self, executable: str, workdir: Path) -> None:
        """Prepare a profile folder under `workdir`; start nothing yet."""
        self.executable = executable
        self.profile = workdir / "chromium-profile"
        self.log_path = workdir / "chromium.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    async def start(self, timeout_s: float = 30) -> None:
        """Start Chromium and attach to its page."""
        self.profile.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - returns at once
            [
                self.executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        port_file = self.profile / "DevToolsActivePort"
        async with asyncio.timeout(timeout_s):
            while not port_file.exists() or not port_file.read_text().strip():
                if self.process.poll() is not None:
                    raise BrowserError(
                        "Chromium exited at start:\n"
                        + self.log_path.read_text(errors="replace")[-3000:]
                    )
                await asyncio.sleep(0.2)
            port = int(port_file.read_text().split()[0])
            self._session = aiohttp.ClientSession()
            page: dict[str, Any] | None = None
            while page is None:
                async with self._session.get(
                    f"http://127.0.0.1:{port}/json/list"
                ) as resp:
                    targets = await resp.json(content_type=None)
                page = next((t for t in targets if t.get("type") == "page"), None)
                if page is None:
                    await asyncio.sleep(0.2)
            self._ws = await self._session.ws_connect(
                page["webSocketDebuggerUrl"], max_msg_size=0
            )
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WINDOW[0],
            height=WINDOW[1],
            deviceScaleFactor=1,
            mobile=False,
        )

    async def stop(self) -> None:
        """Close the connection and end Chromium's whole process group."""
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        if self.process is not None:
            await asyncio.to_thread(kill_process_group, self.process, 10)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result."""
        assert self._ws is not None
        message_id = next(self._ids)
        await self._ws.send_str(
            json.dumps({"id": message_id, "method": method, "params": params})
        )
        async with asyncio.timeout(60):
            while True:
                message = await self._ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise BrowserError(f"DevTools connection closed: {message}")
                data = json.loads(message.data)
                if data.get("id") != message_id:
                    continue  # an event, or an answer nobody waits for
                if "error" in data:
                    raise BrowserError(f"{method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result

    async def log_in(self, base_url: str, tokens: dict[str, Any]) -> None:
        """Have every page of `base_url` start logged in with `tokens`."""
        hass_tokens = {
            "hassUrl": base_url,
            "clientId": f"{base_url}/",
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "token_type": tokens["token_type"],
            "expires_in": tokens["expires_in"],
            "expires": int(time.time() * 1000) + tokens["expires_in"] * 1000,
        }
        script = (
            f"if (location.origin === {json.dumps(base_url)}) {{"
            f" localStorage.setItem('hassTokens', {json.dumps(json.dumps(hass_tokens))});"
            " }"
        )
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=script)

    async def open(self, url: str) -> None:
        """Navigate to `url`."""
        await self.send("Page.navigate", url=url)

    async def text(self) -> str:
        """Return the text the page shows now (shadow DOM included)."""
        result = await self.send(
            "Runtime.evaluate", expression=PAGE_TEXT_JS, returnByValue=True
        )
        value = result.get("result", {}).get("value")
        return value if isinstance(value, str) else ""

    async def wait_for_text(
        self, expected: list[str], timeout_s: float, settle_s: float = 2.0
    ) -> tuple[str, list[str]]:
        """Wait until the page shows every string of `expected`.

        Returns the page's text and what of `expected` it still lacks after
        `timeout_s` (nothing, when all went well).
        """
        text = ""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while True:
                    text = await self.text()
                    if all(item in text for item in expected):
                        # Let charts and late cards finish drawing.
                        await asyncio.sleep(settle_s)
                        return await self.text(), []
                    await asyncio.sleep(0.5)
        return text, [item for item in expected if item not in text]

    async def screenshot(self, path: Path) -> None:
        """Save what the page shows as a PNG."""
        result = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(_write_png, path, base64.b64decode(result["data"]))


def _write_png(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
