"""The README's snippets run as written, in order, against the servers its first snippet starts.

Shell blocks run in one `bash -e` session (so what one exports, the next sees, and the servers it
starts in the background keep running); Python and Node blocks run as separate programs with that
session's environment. Blocks marked `<!-- not a snippet: ... -->` are references (the two
commands themselves, a production deployment's placeholders) and are not run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"
BLOCK = re.compile(r"(?P<marker><!-- not a snippet[^>]*-->\n)?```(?P<lang>\w+)\n(?P<code>.*?)^```", re.S | re.M)
PORTS = (8080, 9000)

pytestmark = pytest.mark.slow


@dataclass
class Snippet:
    lang: str
    code: str
    line: int
    runnable: bool


def snippets() -> list[Snippet]:
    text = README.read_text()
    return [
        Snippet(m["lang"], m["code"], text.count("\n", 0, m.start("code")), m["marker"] is None)
        for m in BLOCK.finditer(text)
    ]


class Shell:
    """One `bash -e` reading snippets from stdin; each snippet ends by printing a marker."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-e"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            text=True,
            start_new_session=True,
        )
        self.env_file = cwd / ".snippet-env"

    def run(self, code: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{code}\nenv -0 > {self.env_file}\necho __SNIPPET_DONE__\n")
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            if line.strip() == "__SNIPPET_DONE__":
                return "".join(lines)
            lines.append(line)
        raise AssertionError("the snippet failed (bash -e stopped):\n" + "".join(lines))

    def environment(self) -> dict[str, str]:
        pairs = self.env_file.read_bytes().split(b"\0")
        return dict(p.decode().split("=", 1) for p in pairs if b"=" in p)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # everything it started goes with it
            os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def test_the_readme_has_snippets_of_every_kind() -> None:
    langs = {s.lang for s in snippets() if s.runnable}
    assert {"sh", "python", "js"} <= langs
    assert all(s.lang in ("sh", "python", "js") for s in snippets()), "a snippet in a language nobody runs"


def test_every_readme_snippet_runs_as_written(tmp_path: Path) -> None:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"port {port}, which the README's snippets use, is taken on this machine")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCAMS_", "ALIBABA_CLOUD_"))}
    shell = Shell(tmp_path, env)
    ran = []
    try:
        for snippet in snippets():
            if not snippet.runnable:
                continue
            where = f"README.md line {snippet.line}"
            if snippet.lang == "sh":
                shell.run(snippet.code)
            elif snippet.lang == "python":
                done = subprocess.run(
                    [sys.executable, "-c", snippet.code],
                    cwd=tmp_path,
                    env=shell.environment(),
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert done.returncode == 0, f"{where}: {done.stderr[-2000:]}"
                assert done.stdout.strip(), f"{where} printed nothing"
            else:
                if shutil.which("node") is None or not NODE_MODULES.exists():
                    pytest.fail("the README's Node snippets need node and `npm ci` in tests/node (make test does both)")
                done = subprocess.run(
                    ["node", "-e", snippet.code],
                    cwd=tmp_path,
                    env={**shell.environment(), "NODE_PATH": str(NODE_MODULES)},
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert done.returncode == 0, f"{where}: {done.stderr[-2000:]}"
                assert done.stdout.startswith("OK"), f"{where}: {done.stdout}"
            ran.append(snippet.lang)
    finally:
        shell.close()
    assert ran.count("sh") >= 2 and "python" in ran and "js" in ran
