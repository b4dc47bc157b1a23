"""The requests adapter that checks the peer of every socket the fetcher connects (see :mod:`tasks.fetch_guard`).

Apart from the guard's pure checks because it needs requests and urllib3, which a run that fetches nothing
(local files, an unchanged rerun) does not import: :class:`tasks.fetch.FetchClient` imports this module with its
first session.
"""

from __future__ import annotations

import socket

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tasks.fetch_guard import BlockedPeerError, address_allowed


def _guarded_pool_classes(
    allow_networks: tuple[str, ...],
) -> dict[str, type[HTTPConnectionPool]]:
    """Return urllib3 pool classes whose connections refuse a socket connected to a non-allowed peer."""

    def check_peer(sock: socket.socket) -> None:
        peer = str(sock.getpeername()[0])
        if not address_allowed(peer, allow_networks):
            sock.close()
            raise BlockedPeerError(f"connected peer {peer} is not an allowed address")

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check_peer(sock)
            return sock

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            check_peer(sock)
            return sock

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


class GuardedAdapter(HTTPAdapter):
    """A requests adapter with no urllib3 retries (the client retries itself) and guarded connections.

    A connection to a peer that is not allowed raises :class:`BlockedPeerError` out of ``Session.get``.
    """

    def __init__(self, allow_networks: tuple[str, ...]) -> None:
        self._pool_classes = _guarded_pool_classes(allow_networks)
        super().__init__(max_retries=0, pool_connections=16, pool_maxsize=4)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes
