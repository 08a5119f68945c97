"""``tagger demo`` and the sample exports shipped inside the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
from tagger.demo import sample_bytes, sample_names

ROOT = Path(__file__).resolve().parents[1]


def test_demo_tags_three_months_into_one_history(run_cli, tmp_path: Path) -> None:
    code, out, err = run_cli("demo", tmp_path / "d")
    assert code == 0, err
    folder = tmp_path / "d"
    final = folder / "car_app_2024-07_tagged.xlsx"
    assert out.strip().splitlines()[-1] == f"已写入：{final.resolve()}"
    for month in ("2024-05", "2024-06", "2024-07"):
        assert (folder / f"car_app_{month}_tagged.xlsx").is_file()
    assert (folder / "tagger-history.sqlite").is_file() and (folder / "tagger.toml").is_file()
    assert "回流用户" in out and ("xdg-open" in out or "open " in out)
    next_step = " ".join(out.split())  # what to run on one's own export, right before the final line
    assert "在存放导出的文件夹中运行 tagger（向导逐步提问），或直接运行 tagger tag 文件.xlsx" in next_step
    workbook = openpyxl.load_workbook(final, read_only=True)
    assert len(workbook.sheetnames) >= 2
    workbook.close()


def test_demo_quiet_prints_only_the_path(run_cli, tmp_path: Path) -> None:
    code, out, _ = run_cli("demo", tmp_path, "-q", "--lang", "en")
    assert code == 0
    assert out.strip() == str((tmp_path / "car_app_2024-07_tagged.xlsx").resolve())


def test_bundled_samples_match_the_checkout() -> None:
    for name in sample_names():
        assert sample_bytes(name) == (ROOT / "samples" / name).read_bytes(), f"copy samples/{name} again"


def test_installed_wheel_ships_the_samples_and_runs_the_demo(tmp_path: Path) -> None:
    """Build a wheel the way ``pip install .`` does, install it elsewhere and run the demo from it.

    The sources are copied first so the build leaves the shared checkout untouched.
    """
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "tagger", source / "tagger", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    proc = subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "dist").glob("tagger-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in sample_names():
        assert f"tagger/samples_data/{name}" in names
    assert "tagger/templates/car_app.toml" in names

    target = tmp_path / "site"
    proc = subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import tagger; print(tagger.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(target))
    demo = subprocess.run([sys.executable, "-m", "tagger", "demo", "out", "-q"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip() == str(tmp_path / "out" / "car_app_2024-07_tagged.xlsx")
