"""The int8 runtimes score without torch: once the graph is in the cache, a scoring process never imports it
(nor transformers), so a scorer-only process stays small and starts fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from listener.nlp.model_io import ARTIFACTS_DIR, artifacts_present
from listener.nlp.settings import NlpSettings

ROOT = Path(__file__).resolve().parents[2]

SCORE_IN_A_FRESH_PROCESS = """
import json, sys
from pathlib import Path
from listener.nlp.loader import load_scorer
from listener.nlp.settings import NlpSettings

scorer = load_scorer(NlpSettings(threads=1, batch_size=4, runtime=sys.argv[2]), Path(sys.argv[1]))
scores = scorer.score(["Der Kundenservice hat mich seit Wochen ignoriert.", "Lovely staff, thank you!"])
print(json.dumps({"backend": scorer.backend, "sentiments": [s.sentiment for s in scores],
                  "loaded": sorted(m for m in ("torch", "transformers") if m in sys.modules)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("runtime", "backend"), [("onnxruntime", "onnxruntime-int8"),
                                                  ("openvino", "openvino-int8-static")])
def test_int8_runtime_scores_without_importing_torch(e5_cache: Path, runtime: str, backend: str) -> None:
    pytest.importorskip("onnxruntime")
    if runtime == "openvino":
        pytest.importorskip("openvino")
    if not artifacts_present(ARTIFACTS_DIR):
        pytest.skip(f"no trained artefacts in {ARTIFACTS_DIR}")
    from listener.nlp.loader import load_scorer

    # the one-off export (torch) happens here, in the test process, if the cache lacks the graph
    load_scorer(NlpSettings(threads=2, runtime=runtime), e5_cache)
    run = subprocess.run([sys.executable, "-c", SCORE_IN_A_FRESH_PROCESS, str(e5_cache), runtime],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    assert result["sentiments"] == ["negative", "positive"]
    assert result["loaded"] == []


def test_the_scorer_imports_nothing_from_training() -> None:
    """listener.nlp.train (training, evaluation, calibration) is imported only by the `listener nlp` commands;
    nothing else in the package reaches it, at the top or inside a function."""
    import ast

    package = ROOT / "listener"
    train = package / "nlp" / "train"
    reaching = []
    for path in package.rglob("*.py"):
        if train in path.parents or path == package / "nlp" / "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom)
                     and node.module else [])
            reaching += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.startswith("listener.nlp.train")]
    assert reaching == []
