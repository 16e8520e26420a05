"""What every test process shares.

The fast indexing path (formats/codex/indexing.py) is loaded here, so that the in-process tests index
every file, however small, through it and its block check, as a folder scan with a big file does; the
reference classifier still answers for every line the fast path declines, and the CLI tests, which
run in fresh processes, index small files with the reference alone (as a pre-resume `check FILE`
does). tests/test_classify_fast.py holds the two to the same answers.
"""

import atexit
import os
import shutil
import tempfile

from rollout_doctor.formats.codex.indexing import load_fast_path

load_fast_path()

# No test writes to the developer's own cache (core/cache_files.py): every test process, and every
# command a test starts, uses this folder unless the test chooses another.
_CACHE = tempfile.mkdtemp(prefix="rollout-doctor-test-cache-")
os.environ["ROLLOUT_DOCTOR_CACHE_DIR"] = _CACHE
os.environ.pop("ROLLOUT_DOCTOR_NO_CACHE", None)
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

# With no path, check and fix look in Claude Code's home too (~/.claude/projects, or $CLAUDE_CONFIG_DIR):
# no test may read or write the transcripts of the machine it runs on. Tests that want a Claude home set
# CLAUDE_CONFIG_DIR (or HOME, for the real binary) themselves.
# A folder that is never created.
os.environ["CLAUDE_CONFIG_DIR"] = os.path.join(tempfile.gettempdir(), f"rollout-doctor-tests-{os.getpid()}-no-claude-home")
