"""A small Python client for the ranker's gRPC API, for backend services.

    from ranker_client import RankerClient, RankerError
    with RankerClient("ranker.internal:50051") as ranker:
        result = ranker.rank(user_id=42, k=10, candidates=[3, 5, 8])
        for item in result.items:
            print(item.item_id, item.score)

Rank changes nothing, so a call that fails with UNAVAILABLE (a replica shutting down or
without a model yet) is retried with exponential backoff, within the call's deadline. Any
other failure raises RankerError with the gRPC status code. Install the package with pip (see
client/python/README.md): its gRPC stubs, ranker_client._proto, are generated from
proto/ranker.proto when it is built.
"""

import dataclasses
import random
import time
from typing import Iterable, List, Optional, Sequence

import grpc

try:
    from ._proto import ranker_pb2, ranker_pb2_grpc
except ModuleNotFoundError as error:
    if error.name != __name__ + "._proto":
        raise
    raise ImportError("ranker_client's gRPC stubs are missing: install the package with pip "
                      "(see client/python/README.md) instead of importing it from the "
                      "source tree") from error

__all__ = ["RankerClient", "RankerError", "RankResult", "ScoredItem"]


class RankerError(Exception):
    """A failed call: `code` is the grpc.StatusCode, `message` the server's explanation."""

    def __init__(self, code: grpc.StatusCode, message: str, attempts: int = 1):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.attempts = attempts


@dataclasses.dataclass(frozen=True)
class ScoredItem:
    item_id: int
    score: float


@dataclasses.dataclass(frozen=True)
class RankResult:
    items: List[ScoredItem]
    model_version: int
    history_source: str  # "NONE", "REQUEST" or "STORED"
    history_length: int
    unknown_ids: int
    popularity: bool  # a history model with no usable history ranked by popularity
    model: str = ""          # the model that answered ("default" for a single store)
    version_label: str = ""  # the label that chose the version, asked for or the split's arm
    split: bool = False      # version_label was chosen by the model's traffic split


def _read(path: Optional[str]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


class RankerClient:
    """One channel to a ranker (or a fleet: target "dns:///name:port" with lb="round_robin").

    timeout: default deadline of a call in seconds, retries included.
    attempts: tries per Rank when the answer is UNAVAILABLE (1 = no retry).
    tls_ca, tls_cert, tls_key: PEM files; tls_ca enables TLS, cert and key mutual TLS.
    server_name: the name to expect in the server's certificate, if not the target's host.
    """

    def __init__(self, target: str, *, timeout: float = 5.0, attempts: int = 3,
                 backoff: float = 0.02, max_backoff: float = 0.5,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None, server_name: Optional[str] = None,
                 lb: str = "pick_first"):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if tls_cert is not None and tls_ca is None:
            raise ValueError("tls_cert needs tls_ca")
        if lb not in ("pick_first", "round_robin"):
            raise ValueError("lb must be pick_first or round_robin")
        self._timeout = timeout
        self._attempts = attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        options = [("grpc.service_config", '{"loadBalancingConfig": [{"%s": {}}]}' % lb)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if tls_ca is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read(tls_ca), private_key=_read(tls_key),
                certificate_chain=_read(tls_cert))
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._stub = ranker_pb2_grpc.RankerStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "RankerClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rank(self, user_id: int, k: int = 10, candidates: Optional[Iterable[int]] = None, *,
             history: Optional[Sequence[int]] = None, exclude: Optional[Iterable[int]] = None,
             include_seen: bool = False, model_version: int = 0, retrieve_n: int = 0,
             model: str = "", version_label: str = "",
             timeout: Optional[float] = None) -> RankResult:
        """The user's top-k items, best first. candidates=None ranks the whole catalogue;
        history (item ids, oldest first) is used instead of the stored one by history models.
        model picks one of a server's several models (empty: its default); version_label a
        labelled version (e.g. "canary"), which also forces a traffic split's arm."""
        request = ranker_pb2.RankRequest(
            user_id=user_id, k=k, candidate_ids=list(candidates or []),
            history_ids=list(history or []), exclude_ids=list(exclude or []),
            include_seen=include_seen, model_version=model_version, retrieve_n=retrieve_n,
            model=model, version_label=version_label)
        response = self._call(self._stub.Rank, request, timeout)
        return RankResult(
            items=[ScoredItem(item.item_id, item.score) for item in response.items],
            model_version=response.model_version,
            history_source=ranker_pb2.HistorySource.Name(response.history_source)
            .replace("HISTORY_SOURCE_", ""),
            history_length=response.history_length,
            unknown_ids=response.unknown_ids,
            popularity=response.popularity,
            model=response.model,
            version_label=response.version_label,
            split=response.split)

    def _call(self, method, request, timeout: Optional[float]):
        deadline = time.monotonic() + (self._timeout if timeout is None else timeout)
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RankerError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                  "deadline passed before the call could be retried", attempt - 1)
            try:
                return method(request, timeout=remaining)
            except grpc.RpcError as error:
                code, details = error.code(), error.details() or ""
                if code != grpc.StatusCode.UNAVAILABLE or attempt == self._attempts:
                    raise RankerError(code, details, attempt) from None
            # Full jitter: replicas recovering together are not hit in step.
            time.sleep(min(random.uniform(0, delay), max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, self._max_backoff)
        raise AssertionError("unreachable")
