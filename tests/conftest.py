"""What every test process shares.

The fast indexing path (formats/codex/indexing.py) is loaded here, so that the in-process tests index
every file, however small, through it and its block check, as a folder scan with a big file does; the
reference classifier still answers for every line the fast path declines, and the CLI tests, which
run in fresh processes, index small files with the reference alone (as a pre-resume `check FILE`
does). tests/test_classify_fast.py holds the two to the same answers.
"""

from rollout_doctor.formats.codex.indexing import load_fast_path

load_fast_path()
