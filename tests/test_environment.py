"""The conda route (environment.yml) and the pip route (pyproject.toml) list the same packages."""
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


def _split(req: str) -> tuple[str, str]:
    name, rest = SPEC.match(req.strip()).groups()
    return name.lower().replace("_", "-"), rest.replace(" ", "")


def conda_packages() -> dict:
    """Packages of environment.yml (conda and pip sections), without python/pip/-e ."""
    found = {}
    text = (REPO / "environment.yml").read_text()
    for raw in text.split("dependencies:", 1)[1].splitlines():
        line = raw.split("#")[0].strip()
        if not line.startswith("- ") or line.endswith(":"):
            continue
        item = line[2:].strip()
        if item.startswith("-e") or item.startswith("python") or item == "pip":
            continue
        name, version = _split(item)
        found[name] = version
    return found


def pip_packages() -> dict:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return dict(_split(r) for r in meta["dependencies"])


def test_same_packages_and_ranges():
    conda, pip = conda_packages(), pip_packages()
    assert conda == pip, f"environment.yml {conda} != pyproject.toml {pip}"


def test_spec_packages_are_listed():
    for name in ("jupyterlab", "numpy", "matplotlib", "nbgrader", "keras", "tensorflow"):
        assert name in pip_packages()


def test_python_version_is_311():
    assert "python=3.11" in (REPO / "environment.yml").read_text()
