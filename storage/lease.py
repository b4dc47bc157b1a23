"""The write lock of a lake: an ``flock`` on a local disk (:func:`local_lock`), a lease on S3.

An S3 store has only conditional writes, so there the lake's write lock is a *lease*: the object ``_lock`` is
created with ``If-None-Match: *`` (of two writers starting together exactly one gets it), renewed every quarter of
its length with ``If-Match: <etag>`` by a thread of the holder, and deleted when the holder is done. A lease that
was not renewed for its whole length, or whose holder is a process of this machine that is gone, is taken over
with ``If-Match`` on the stale lease's etag (of two takers exactly one wins).

Every commit marker is fenced: right before writing it the writer (the flow, or a Dask worker holding a copy of the
lake) reads ``_lock`` and commits only if the lease is still its own with at least half its length left
(:meth:`S3Lease.check`), and the marker itself is created with ``If-None-Match: *``, so a stem is committed once. A
writer that lost its lease (paused past its expiry, or a worker of a run that died) raises
:class:`LakeLeaseLostError` at its next commit and nothing of that write becomes visible; the new holder's sweep
removes its files. The lease assumes clocks that agree within three quarters of a lease and a marker write that
lands within a few seconds of its check.

:class:`storage.lake.Lake` holds an :class:`S3Lease` and keeps the holder's state (:class:`_Lease`, and the token
its copies write under); everything here is plain requests through :class:`_ObjectStore`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.objectstore import LakeError, LakeLeaseLostError, LakeLockedError, _ObjectStore

# The write lease on an S3 lake lasts this long unless renewed; the holder renews it every quarter of it, so a
# live lease always has three quarters left and clocks that disagree by less than that never make it look
# expired. One minute: a writer that died on another machine holds the lake that long at most.
LEASE_SECONDS = 60.0
# After taking over the lease of a process of this machine that is gone (its lease not yet expired), wait this
# long before touching the lake: a write task of that run (a Dask worker) that checked the lease just before the
# takeover has landed its one small marker by then, and every later check refuses it.
TAKEOVER_PAUSE_SECONDS = 5.0
# How often a writer waiting for the lease looks again: one small GET per look.
_LEASE_POLL_SECONDS = 0.5

# A child of the lake's logger: the lease is the lake's lock, and whoever sets the lake's log level sets this one.
log = logging.getLogger("storage.lake.lease")


def _machine_id() -> str:
    """Return what identifies this machine's process table (Linux: the boot id and the pid namespace), or '' where
    that is unknown: a lease held by a pid of the same table that is gone belongs to a dead process."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"


def _process_gone(pid: int) -> bool:
    """Return True when process ``pid`` of this machine has ended (gone, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return True
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] in ("Z", "X")


@dataclass(slots=True)
class _Lease:
    """The holder's side of a lease on an S3 lake: its token, the etag of its last write, when it renewed it."""

    token: str
    etag: str
    acquired_at: str
    renewed: float  # time.monotonic() of the last successful write
    lost: str = ""  # why the lease is no longer this writer's, once it is not


def _parse_lease(data: bytes | None) -> dict[str, Any]:
    """Return a lease object's content; an unreadable one reads as empty (and so as stale)."""
    if data is None:
        return {}
    try:
        value = json.loads(data.decode())
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _lease_staleness(held: Mapping[str, Any], now: float) -> tuple[str, bool]:
    """Return why the lease ``held`` may be taken over ('' when it is live), and whether that is because its
    holder is a process of this machine that is gone (before the lease expired)."""
    expires = held.get("expires_at")
    if not isinstance(expires, int | float):
        return "unreadable lease", False
    if now > expires:
        return f"lease expired {now - expires:.0f} s ago", False
    machine, pid = held.get("machine"), held.get("pid")
    if machine and machine == _machine_id() and isinstance(pid, int) and _process_gone(pid):
        return f"holder pid {pid} is gone", True
    return "", False


@dataclass(frozen=True)
class S3Lease:
    """The requests of the lease on one S3 lake: the lock object ``key`` in ``store``, leases of ``seconds``.

    Holds no holder state, so it travels with the lake to Dask workers as it is; ``uri`` names the lake in
    messages.
    """

    store: _ObjectStore
    key: str
    uri: str
    seconds: float

    def body(self, token: str, acquired_at: str) -> bytes:
        """Return the lease object a holder writes: its token, who it is, and when the lease expires."""
        pid, host = os.getpid(), socket.gethostname()
        lease = {
            "token": token,
            "holder": f"pid {pid} on {host} since {acquired_at}",
            "machine": _machine_id(),
            "pid": pid,
            "renewed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "expires_at": time.time() + self.seconds,
        }
        return json.dumps(lease).encode()

    def acquire(self, wait_seconds: float, takeover_pause: float) -> _Lease:
        """Create the lease object, or take over a stale one; wait up to ``wait_seconds`` for a live one to go.

        After taking over the lease of a gone process of this machine, sleep ``takeover_pause`` (see
        :data:`TAKEOVER_PAUSE_SECONDS`). Raises :class:`LakeLockedError` naming the holder when the wait ends.
        """
        store, key = self.store, self.key
        token, acquired_at = uuid.uuid4().hex, datetime.now(UTC).isoformat(timespec="seconds")
        deadline = time.monotonic() + wait_seconds
        while True:
            etag = store.put(key, self.body(token, acquired_at), if_none_match=True)
            if etag is not None:
                return _Lease(token, etag, acquired_at, time.monotonic())
            found = store.get(key)
            if found is None:
                continue  # released between the two requests: try again at once
            held = _parse_lease(found[0])
            if held.get("token") == token:  # our own write, retried after its answer was lost
                return _Lease(token, found[1], acquired_at, time.monotonic())
            stale, holder_gone = _lease_staleness(held, time.time())
            if stale:
                etag = store.put(key, self.body(token, acquired_at), if_match=found[1])
                if etag is not None:
                    log.warning("took over the write lock of %s from %s: %s", self.uri, held.get("holder"), stale)
                    if holder_gone:
                        time.sleep(takeover_pause)
                    return _Lease(token, etag, acquired_at, time.monotonic())
                continue  # another writer took it over first, or it was renewed: look again
            if time.monotonic() >= deadline:
                holder = held.get("holder") or "another process"
                raise LakeLockedError(
                    f"data directory {self.uri} is being written by {holder}; "
                    "wait for it to finish or pass --wait-lock SECONDS"
                )
            time.sleep(_LEASE_POLL_SECONDS)

    def keep(self, lease: _Lease, stop: threading.Event, renew: Callable[[_Lease], None]) -> None:
        """Call ``renew(lease)`` every quarter of the lease's length until ``stop`` is set or the lease is lost.

        ``renew`` is the lake's, so the renewal a lake object makes can be replaced on that object alone.
        """
        while not stop.wait(self.seconds / 4) and not lease.lost:
            renew(lease)

    def renew(self, lease: _Lease) -> None:
        """Extend ``lease`` with ``If-Match`` on its last etag; mark it lost when someone else holds the lock now.

        A failed request is only logged: the next renewal tries again, and the fence before each commit refuses
        to commit on a lease with less than half its length left.
        """
        store, key = self.store, self.key
        try:
            etag = store.put(key, self.body(lease.token, lease.acquired_at), if_match=lease.etag)
            if etag is None:
                found = store.get(key)
                held = _parse_lease(found[0] if found else None)
                if found is None or held.get("token") != lease.token:
                    lease.lost = f"taken over by {held.get('holder') or 'nobody (the lock object is gone)'}"
                    log.error("the write lock of %s was %s", self.uri, lease.lost)
                    return
                etag = found[1]  # our own renewal, retried after its answer was lost
        except LakeError as exc:
            log.warning("could not renew the write lock of %s (will retry): %s", self.uri, exc)
            return
        lease.etag, lease.renewed = etag, time.monotonic()

    def release(self, lease: _Lease) -> None:
        """Delete the lease object if it is still ``lease`` (a lost lease belongs to its new holder)."""
        if lease.lost:
            return
        try:
            if not self.store.delete(self.key, lease.etag):
                log.warning("the write lock of %s had changed hands before its release", self.uri)
        except LakeError as exc:  # it expires by itself
            log.warning("could not release the write lock of %s: %s", self.uri, exc)

    def check(self, token: str | None, lease: _Lease | None) -> None:
        """Raise unless a writer under ``token`` may commit now: the lease in ``_lock`` is still ``token``'s with at
        least half its length left (the fence before every commit marker).

        ``lease`` is the holder's renewal state (None in a copy of the lake, which never renews). Raises
        :class:`LakeLeaseLostError` for a lost or expiring lease, :class:`LakeError` for a write attempted without
        the lock.
        """
        if token is None:
            raise LakeError(f"writing to {self.uri} needs its write lock (Lake.write_lock)")
        if lease is not None and lease.lost:
            raise LakeLeaseLostError(f"the write lock of {self.uri} was {lease.lost}; this write was not committed")
        found = self.store.get(self.key)
        held = _parse_lease(found[0] if found else None)
        if held.get("token") != token:
            holder = held.get("holder") or "nobody (the lock object is gone)"
            raise LakeLeaseLostError(f"the write lock of {self.uri} passed to {holder}; this write was not committed")
        left = float(held.get("expires_at") or 0) - time.time()
        if left < self.seconds / 2:
            raise LakeLeaseLostError(
                f"the write lock of {self.uri} is not being renewed ({left:.0f} s left); this write was not committed"
            )


@contextlib.contextmanager
def local_lock(path: Path, uri: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (the ``_lock`` file of the local lake at ``uri``) for the block.

    The kernel releases the lock when the process dies, so a crash never leaves it stale. The holder writes its
    pid into the file, which a waiter names in :class:`LakeLockedError` after ``wait_seconds``.
    """
    with path.open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LakeLockedError(
                        f"data directory {uri} is being written by {holder}; "
                        "wait for it to finish or pass --wait-lock SECONDS"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
