"""Sessions: `system` (Debian packages), `build` (every edition of the default book), `tests` (`-- -m "not slow"`
for a quick loop), `lint`, `typecheck`, `bench`, `fuzz`."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["build"]

# What zhpress and its tests need from Debian: the CJK fonts, HarfBuzz's subsetter (without it WeasyPrint
# subsets CJK fonts 20-30x slower), PDF checkers, Java for EPUBCheck, Chromium and npm for Ace by DAISY,
# chromium-driver for the preview server's browser tests (Selenium).
DEBIAN_PACKAGES = [
    "fonts-noto-cjk",
    "fonts-hanazono",  # HanaMin A/B: a fallback face for CJK Extensions B-F, which Noto CJK lacks in part
    "libharfbuzz-subset0",
    "fontconfig",
    "poppler-utils",
    "qpdf",
    "default-jre-headless",
    "chromium",
    "chromium-driver",
    "nodejs",
    "npm",
    "libzbar0",  # pyzbar's decoder: the tests read the cover's barcode back
]
ACE_DIR = os.path.join(".nox", "ace")


def _missing_debian_packages() -> list[str]:
    missing = []
    for package in DEBIAN_PACKAGES:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in probe.stdout:
            missing.append(package)
    # Machines that already have a Java runtime or Node.js from elsewhere need no Debian copy.
    if shutil.which("java"):
        missing = [p for p in missing if p != "default-jre-headless"]
    if shutil.which("node") and shutil.which("npm"):
        missing = [p for p in missing if p not in ("nodejs", "npm")]
    return missing


@nox.session(python=False)
def system(session: nox.Session) -> None:
    """Install the Debian packages zhpress and its tests need (run as root; does nothing when present)."""
    missing = _missing_debian_packages()
    if not missing:
        session.log("all Debian packages present")
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run(*sudo, "apt-get", "update", "-q", external=True, env=env)
    session.run(*sudo, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing, external=True, env=env)


def _package_digest() -> str:
    """A hash of everything that goes into the installed package: pyproject.toml and every file under src/."""
    digest = hashlib.sha256()
    files = [Path("pyproject.toml"), *sorted(p for p in Path("src").rglob("*") if p.is_file() and "__pycache__" not in p.parts)]
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _install_if_changed(session: nox.Session) -> None:
    """Install zhpress into the session only when its files changed since the last install (a stamp in the
    virtual environment records their hash; a new environment has none, so it installs)."""
    stamp = Path(session.virtualenv.location) / ".zhpress-installed"
    digest = _package_digest()
    if stamp.is_file() and stamp.read_text() == digest and shutil.which("zhpress", path=session.bin):
        session.log("zhpress is installed and unchanged")
        return
    session.install(".")
    stamp.write_text(digest)


@nox.session
def build(session: nox.Session) -> None:
    """Build every profile of the default book into dist/ (installing zhpress only when it changed)."""
    _install_if_changed(session)
    session.run("zhpress", "build", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite: unit tests, and end-to-end builds checked with EPUBCheck, Ace, qpdf and pypdf."""
    session.install("-e", ".[test]")
    _install_ace(session)
    session.run("pytest", *session.posargs, env={"ZHPRESS_ACE": os.path.abspath(os.path.join(ACE_DIR, "node_modules", ".bin", "ace-puppeteer"))})


def _install_ace(session: nox.Session) -> None:
    """Ace by DAISY from npm, using Debian's Chromium instead of a downloaded browser."""
    if os.path.exists(os.path.join(ACE_DIR, "node_modules", ".bin", "ace-puppeteer")):
        return
    if not shutil.which("npm"):
        session.error("npm is missing: run `nox -s system` first")
    os.makedirs(ACE_DIR, exist_ok=True)
    session.run(
        "npm", "install", "--prefix", ACE_DIR, "--no-audit", "--no-fund", "--loglevel=error", "@daisy/ace",
        external=True,
        env={"PUPPETEER_SKIP_DOWNLOAD": "1", "ELECTRON_SKIP_BINARY_DOWNLOAD": "1", "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1"},
    )


@nox.session
def fuzz(session: nox.Session) -> None:
    """A longer fuzz run of the manuscript reader than the one in the tests."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/test_properties.py", "-q", env={"ZHPRESS_FUZZ_EXAMPLES": "20000"})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks beside plain WeasyPrint, Typst and pandoc (installed only here); writes bench/results/."""
    session.install(".", "psutil", "matplotlib", "typst", "pypandoc-binary")
    session.run("python", "bench/run.py", *session.posargs)


@nox.session
def golden(session: nox.Session) -> None:
    """Rewrite tests/golden/default-book.json from `zhpress inspect --json` (review the diff before committing)."""
    session.install("-e", ".")
    with open("tests/golden/default-book.json", "w", encoding="utf-8") as handle:
        session.run("zhpress", "inspect", "--json", stdout=handle)


LINT_TOOLS = ["ruff>=0.6"]
TYPECHECK_TOOLS = ["mypy>=1.11", "types-PyYAML"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, the tests, the bench and this file (rules in pyproject.toml)."""
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", "src", "tests", "bench", "noxfile.py", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over src/, with zhpress and its dependencies installed (settings in pyproject.toml)."""
    session.install("-e", ".", *TYPECHECK_TOOLS)
    session.run("mypy", "src", *session.posargs)
