"""``scripts/install-deps``: what a fresh machine lacks is installed, or the exact command is named.

The script runs for real here, on a PATH of stand-ins for dpkg-query, apt-get, id and sudo that
record what they were asked: this machine already has the packages, and a test must not install
or remove system packages. What it cannot prove: that Debian's mirror serves the packages (CI on
a fresh machine does, through ``make test``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-deps"
EVERY = [
    "redis-server",
    "postgresql",
    "slapd",
    "ldap-utils",
    "chromium",
    "chromium-driver",
    "unzip",
    "curl",
    "openssl",
]


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)


def _machine(tmp_path: Path, *, installed: list[str], uid: int, sudo: bool, tools: bool = True) -> Path:
    """A PATH of stand-ins: these packages installed, this uid, sudo or not, javac/mvn/python or not."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for real in ("bash", "grep", "cat", "env"):
        found = shutil.which(real)
        assert found, real
        (bin_dir / real).symlink_to(found)
    log = tmp_path / "calls.log"
    have = " ".join(installed)
    found = 'echo "install ok installed" && exit 0'
    _stub(bin_dir, "dpkg-query", f'for p in {have}; do [ "${{@: -1}}" = "$p" ] && {found}; done; exit 1')
    _stub(bin_dir, "id", f"echo {uid}")
    _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}')
    _stub(bin_dir, "debconf-set-selections", f'echo "debconf $(cat)" >> {log}')
    if sudo:
        _stub(bin_dir, "sudo", f'[ "$1" = "-n" ] && exit 0; echo "sudo" >> {log}; env "$@"')
    if tools:
        for tool in ("javac", "mvn", "python3.11"):
            _stub(bin_dir, tool, "exit 0")
    return bin_dir


def _run(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/root")}
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def _calls(tmp_path: Path) -> str:
    log = tmp_path / "calls.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def test_nothing_missing_installs_nothing(tmp_path: Path) -> None:
    result = _run(_machine(tmp_path, installed=EVERY, uid=0, sudo=False))
    assert result.returncode == 0, result.stderr
    assert _calls(tmp_path) == ""


def test_root_installs_exactly_what_is_missing(tmp_path: Path) -> None:
    result = _run(_machine(tmp_path, installed=["unzip", "curl", "openssl"], uid=0, sudo=False))
    assert result.returncode == 0, result.stderr
    calls = _calls(tmp_path)
    assert "debconf slapd slapd/no_configuration boolean true" in calls
    assert "apt-get update -q" in calls
    install = next(line for line in calls.splitlines() if line.startswith("apt-get install"))
    assert install.split()[-6:] == [
        "redis-server",
        "postgresql",
        "slapd",
        "ldap-utils",
        "chromium",
        "chromium-driver",
    ]
    assert "unzip" not in install


def test_java_maven_and_venv_come_too_when_absent(tmp_path: Path) -> None:
    result = _run(_machine(tmp_path, installed=EVERY, uid=0, sudo=False, tools=False))
    assert result.returncode == 0, result.stderr
    install = next(line for line in _calls(tmp_path).splitlines() if line.startswith("apt-get install"))
    assert install.split()[-4:] == ["openjdk-17-jdk-headless", "maven", "python3", "python3-venv"]


def test_a_user_with_sudo_installs_through_sudo(tmp_path: Path) -> None:
    result = _run(_machine(tmp_path, installed=EVERY[1:], uid=1000, sudo=True))
    assert result.returncode == 0, result.stderr
    calls = _calls(tmp_path).splitlines()
    assert calls[0] == "sudo"
    assert any(line.endswith("install -y -q --no-install-recommends redis-server") for line in calls)


def test_without_root_or_sudo_it_stops_with_the_command_to_run(tmp_path: Path) -> None:
    result = _run(_machine(tmp_path, installed=EVERY[3:], uid=1000, sudo=False))
    assert result.returncode == 1
    assert _calls(tmp_path) == ""
    assert "missing Debian packages: redis-server postgresql slapd" in result.stderr
    assert "apt-get install -y -q --no-install-recommends redis-server postgresql slapd'" in result.stderr


@pytest.mark.parametrize(("installed", "code"), [(EVERY, 0), (EVERY[:-1], 1)])
def test_check_lists_what_is_missing(tmp_path: Path, installed: list[str], code: int) -> None:
    result = _run(_machine(tmp_path, installed=installed, uid=1000, sudo=False), "--check")
    assert result.returncode == code
    assert result.stdout.split() == ([] if code == 0 else ["openssl"])
    assert _calls(tmp_path) == ""
