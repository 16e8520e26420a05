"""Writing rollouts without ever losing a byte: the commit protocol, backups and undo.

A *transaction* replaces one or more rollouts together: a session and, when a fix changes its history
before the point where a fork or a revert branch continues it, every such child (their
``history_base`` must keep pointing at the same record; core/thread.py). It knows no session format:
where a client looks for sessions and which lock files a live client holds come from the formats
(places.py).

Modules: transaction.py (commit), state.py (a file's state), files.py (temporary copies, the checked replace),
ranges.py (copying byte ranges by the kernel), copies.py, staging.py (backups copied ahead), putback.py, journal.py and journal_reader.py (the journal, and reading it back as untrusted
input), location.py (where backups live), recovery.py (completing a killed run), undo.py, backups.py
(listing and pruning), runs.py (the transactions of one invocation), liveness.py, signals.py,
tempfiles.py, reading.py.

**Commit**, in this order (store/transaction.py ``commit``):

1. *Preflight.* Every path is resolved (a symlinked rollout: its target is written, the link kept),
   must be a regular file, and must not be held open for writing by a running process (liveness.py;
   ``--force`` rewrites it anyway and keeps the replaced inode reachable beside it, or refuses when it
   cannot). The backup store must not lie where a client looks for sessions.
2. *Temporary files.* Each new version is written beside its rollout as ``.rollout-doctor-<pid>-….tmp``
   (never taken for a session), fsynced, and given the original's owner, group, mode and extended
   attributes; a rollout whose owner or group cannot be kept is refused. A version handed over by its
   maker (a fix's last pass, a private scratch file nothing writes again) becomes that temporary file
   by a hard link where it lies on the rollout's file system, and is copied by the kernel elsewhere.
   *Killed or interrupted here:* nothing else exists; the error path removes the temporary files, and
   a later run sweeps those a SIGKILL left (tempfiles.py).
3. *Backup and journal.* A new folder in the store (0700) receives a 0600 copy of each original as
   stored (compressed or not), checked against the hash taken when it was read (a big one is copied
   ahead, while the fix is worked out, into ``.staging/``, and moved here when its hash is that one:
   staging.py; *killed before*, a later run removes it), then ``journal.json``
   in state ``prepared`` (paths, sizes and hashes before and after, owner, mode, times, the new
   inode, the temporary file's name), fsynced, folder and store fsynced. From here until step 5 ends,
   Ctrl-C, SIGTERM and SIGHUP wait (store/signals.py).
   *Killed here:* a ``prepared`` journal whose files all hold their old bytes; the next run deletes it.
   *Disk full, read-only:* the folder is removed and the files untouched; the report says nothing was
   written (exit 2).
4. *Replace*, file by file: the original is checked again through one descriptor (inode, size, mtime,
   and its sha256, read again unless its change time, which no program can set, is still the one that
   had settled before the bytes were first hashed: state.py ``FileState``) and refused if anything
   changed it; a hard link to it is taken; ``os.replace`` moves the new
   version in; its access and modification times are set back to the original's (``codex resume
   --last`` picks by mtime); the folder is fsynced. A write that slipped in between the check and the
   replace is caught after it and the original inode goes back under its name.
   *A refusal or an error on any file:* the files already replaced get their originals back from the
   copies, the journal says ``rolled-back``, and nothing is reported as written.
   *Killed here:* some files hold their new bytes, some their old, and the journal says ``prepared``.
   The next ``fix``, ``guard`` or ``undo`` completes it (recovery.py ``recover``): forward, from the temporary
   files, when all of them are still there; else back, from the copies. Either way the thread is
   whole again: its old state or its new one.
5. *Record.* The journal says ``committed``. *Killed, or the disk fills, before this:* every file holds
   its new bytes, and the next run records the journal as committed; the report says the files were
   written, with a warning.

**Undo** (undo.py ``restore``) puts back every file of the newest committed transaction that wrote a path, found
by that path, or by the inode the fix gave it when Codex has since moved the file (archived it); never
by bytes alone, so a copy of a session cannot use up the original's backup. Each file must still hold
the bytes the fix wrote (``--force`` first saves what it holds in the transaction's folder). The
journal says ``restoring`` while the files go back (a killed undo is finished by the next run) and
``restored`` after; times are kept as they are. ``restore_all`` puts back several transactions, newest
first (a folder's, a run's: every journal records the run, runs.py, that wrote it), after checking them
all: a file changed since the newest of them wrote it, or between two of them, a missing backup, a live
writer: nothing is restored.

**The store is untrusted input.** A journal that is not JSON, names a relative path or a path with NUL
bytes, a hash that is not one, a copy that is missing: each is reported in one line naming the folder,
and every other backup stays usable (store/journal_reader.py).
"""

from importlib import import_module
from typing import Any

# Loaded on first use (PEP 562): `check` runs before every resume and imports this package for its
# signal handling only; the writing half is hashlib, shutil and the backup store.
_HOME = {"FileState": "state", "RefusedToWrite": "files", "WriteError": "files", "Change": "transaction",
         "Restored": "undo", "Written": "transaction", "commit": "transaction", "recover": "recovery",
         "restore": "undo", "restore_all": "undo"}
__all__ = ["Change", "FileState", "RefusedToWrite", "Restored", "WriteError", "Written", "commit", "recover",
           "restore", "restore_all"]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(name)
    return getattr(import_module(f"rollout_doctor.store.{_HOME[name]}"), name)
