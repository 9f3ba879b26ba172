"""A stand-in for a running trainer: a separate process writing to a run store.

Usage: python _writer_process.py STORE NAME STEPS BATCH READY_FILE
Writes STEPS steps of BATCH rollouts and one metric row each, then finishes the run.
"""

import sys
import time
from pathlib import Path

from codeeval_rl.monitoring import RolloutRecord, RunStore


def main() -> None:
    store_path, name, steps, batch, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    store = RunStore(store_path)
    run = store.start_run("train", name, {"writer": name})
    Path(ready).write_text(run)
    for step in range(steps):
        store.log_rollouts(run, [
            RolloutRecord(task_id=f"t{i}", completion=f"print({i})", reward=i / batch, status="ok",
                          passed=i % 2 == 0, step=step, sample_index=i, language="python",
                          category="math", components={"syntax": 1.0})
            for i in range(batch)
        ])
        store.log_metrics(run, step, {"loss": 1.0 / (step + 1), "kl": 0.01 * step})
        time.sleep(0.002)
    store.finish_run(run)


if __name__ == "__main__":
    main()
