"""Domain errors the services raise; `api.http.problems` maps each to one HTTP problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class ServiceError(Exception):
    """Base of every error a service raises on purpose (never a bug)."""


@dataclass(frozen=True)
class ShortLine:
    """A line that cannot be served in full: how much was asked and how much is available."""

    line_id: str
    sku: str
    qty: int
    available: int


class NotEnoughStock(ServiceError):
    """No plan serves every line; nothing was reserved."""

    def __init__(self, order_id: str, short: Sequence[ShortLine]) -> None:
        self.order_id = order_id
        self.short = tuple(short)
        names = ", ".join(f"{s.line_id} ({s.sku}: {s.qty} asked, {s.available} available)"
                          for s in self.short)
        super().__init__(f"order {order_id}: not enough stock for {names or 'the order'}")


class StaleStock(ServiceError):
    """Every retry decided on stock that changed before it could be reserved."""

    def __init__(self, order_id: str, attempts: int) -> None:
        self.order_id = order_id
        self.attempts = attempts
        super().__init__(
            f"order {order_id}: stock changed under {attempts} consecutive decisions; retry later"
        )


@dataclass
class NotFound(ServiceError):
    """An unknown order, SKU, store or locker. `field` points at the request part naming it."""

    kind: str
    key: str
    field: str | None = None

    def __post_init__(self) -> None:
        super().__init__(f"unknown {self.kind} {self.key!r}")


@dataclass
class Conflict(ServiceError):
    """The request contradicts what is already recorded (a reused order id, a shipped order)."""

    reason: str
    detail: str
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)


@dataclass
class InvalidCommand(ServiceError):
    """Input that parses but makes no sense for the domain; `pointer` names the bad field."""

    pointer: str
    detail: str

    def __post_init__(self) -> None:
        super().__init__(self.detail)


class DatabaseUnavailable(ServiceError):
    """The database cannot be reached; the caller should come back later."""
