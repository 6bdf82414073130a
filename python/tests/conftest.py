"""Shared fixtures: the repository, the command line to compare with, and the
GPU. Under CI=true nothing that needs the command line or a GPU adapter may
skip: it fails instead, so a broken CI machine cannot pass quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import gpucount

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
IN_CI = os.environ.get("CI") == "true"

# Hypothesis keeps its files (examples found, Unicode tables) under target/,
# not in the checkout.
if (ROOT / "target").is_dir():
    try:
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # another Hypothesis: its default, .hypothesis/ in the working directory
        pass
    else:
        set_hypothesis_home_dir(ROOT / "target" / "hypothesis")


def skip_or_fail(reason: str) -> None:
    """Skips the test, or fails it under CI=true."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: failing instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cli() -> Path:
    """The gpucount command line of this checkout: $GPUCOUNT_BIN, or
    target/release/gpucount brought up to date with cargo (a no-op after
    `cargo test --release`)."""
    given = os.environ.get("GPUCOUNT_BIN")
    if given:
        return Path(given)
    if not SAMPLE.is_dir():
        skip_or_fail(f"no checkout around the tests ({SAMPLE} is missing)")
    cargo = shutil.which("cargo")
    if cargo is None:
        skip_or_fail("cargo is not installed, so the command line cannot be built to compare with")
    subprocess.run(
        [cargo, "build", "--release", "--quiet", "--bin", "gpucount"],
        cwd=ROOT,
        check=True,
    )
    return ROOT / "target" / "release" / "gpucount"


@pytest.fixture(scope="session")
def gpu_adapter() -> dict:
    """The first GPU adapter (lavapipe will do); skips without one, fails under CI=true."""
    adapters = gpucount.devices()["adapters"]
    if not adapters:
        skip_or_fail("no GPU adapter (install a Vulkan driver such as mesa-vulkan-drivers)")
    return adapters[0]


@pytest.fixture(params=["cpu", "gpu"])
def backend(request: pytest.FixtureRequest) -> str:
    """Both backends; the GPU one needs an adapter."""
    if request.param == "gpu":
        request.getfixturevalue("gpu_adapter")
    return request.param
