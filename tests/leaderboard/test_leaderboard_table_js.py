import json
import shutil
import subprocess
from pathlib import Path

import pytest

import leaderboard

TABLE_JS = Path(leaderboard.__file__).parent / "static" / "table.js"
CHECK_JS = Path(__file__).parent / "table_js_check.js"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run table.js")
def test_sorting_and_filtering_are_kept_in_the_url_hash():
    output = subprocess.run(
        ["node", str(CHECK_JS), str(TABLE_JS)], capture_output=True, text=True, check=True,
        timeout=60,
    ).stdout
    results = json.loads(output)
    assert results["initial"] == ["replay", "joint", "finetune"]  # untouched without a hash
    assert results["ascending"] == ["finetune", "replay", "joint"]
    assert results["descending"] == ["joint", "replay", "finetune"]
    assert results["rankAscending"] == ["replay", "finetune", "joint"]  # empty rank sorts last
    assert results["filtered"] == ["replay"]  # case-insensitive text filter
    # the anchor survives; the state is appended and restored on load
    assert results["hash"] == "#split-mnist-class&table-x.q=RE&table-x.sort=0.asc"
    assert results["restoredOrder"] == ["replay", "finetune", "joint"]
    assert results["restoredVisible"] == ["replay"]
