"""A save killed midway leaves its staging folder (``.saving-*``); the next save removes it, but never the
staging folder of a save still running in another process, however old. Before, such folders stayed
forever (a killed LSTM-Transformer save left its weights behind on every kill)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from mastertrade.artifacts import ArtifactStore

SAVER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mastertrade.artifacts import ArtifactStore

    def write(folder: Path) -> None:
        (folder / "weights.npy").write_bytes(b"x" * 1000)
        print(folder, flush=True)
        time.sleep(600)  # killed or left running here, mid-save

    ArtifactStore(Path(sys.argv[1])).save("forecast", "lightgbm", {"k": sys.argv[2]}, write, libraries={})
    """
)


def _start_saving(root: Path, key: str) -> tuple[subprocess.Popen[str], Path]:
    saver = subprocess.Popen([sys.executable, "-c", SAVER, str(root), key], stdout=subprocess.PIPE, text=True)
    assert saver.stdout is not None
    return saver, Path(saver.stdout.readline().strip())


def _age(folder: Path, seconds: float) -> None:
    old = folder.stat().st_mtime - seconds
    os.utime(folder, (old, old))


def _payload(folder: Path) -> None:
    (folder / "w.txt").write_text("weights")


def test_a_killed_saves_folder_is_swept_a_live_one_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "models"
    killed, abandoned = _start_saving(root, "a")
    live, running = _start_saving(root, "b")
    try:
        assert abandoned.name.startswith(".saving-") and abandoned.is_dir()
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        fresh = root / "forecast" / "lightgbm" / "c" / ".saving-fresh"
        fresh.mkdir(parents=True)  # unlocked but just made: its writer may not have locked it yet
        for folder in (abandoned, running):
            _age(folder, 3600)
        store = ArtifactStore(root)
        saved = store.save("forecast", "lightgbm", {"k": "a"}, _payload, libraries={})
        assert not abandoned.exists()  # before: there forever
        assert running.is_dir() and (running / "weights.npy").is_file()  # a live save's folder is kept
        assert fresh.is_dir()
        assert [a.version for a in store.list()] == [saved.version]
    finally:
        live.kill()
        live.wait(30)
        for process in (killed, live):
            assert process.stdout is not None
            process.stdout.close()
    # once its writer is gone (killed) and the folder is old, the next save removes it too
    assert ArtifactStore(root).sweep_staging() == [running]
