"""What the volunteers layer tells the layers above it, without importing them.

`work_verified` is sent when a piece of a person's work has become final and counts: today a grid task's
attendance (volunteers.gridtasks), later a work order handled or a patrol round walked. It is sent inside
the transaction that makes the work final, so what the receivers write commits or rolls back with it;
points (points.apps) answers with the award the rules give, once per `source`.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal


@dataclass(frozen=True)
class VerifiedWork:
    """Work that counts, as the points rules need it."""

    person_id: int
    # What the work was, once and for all: "attendance:<id>" (later "workorder:<id>", "patrol:<id>").
    # Receivers key what they write on it, so the same work sent twice is answered once.
    source: str
    grid_id: int
    category_id: int  # the duty category (of the "9-81" list) the work belongs to
    start: datetime  # the verified part of the work: from, to
    end: datetime
    minutes: int  # verified minutes
    points: int  # the work's own points, the base of rules whose basis is "task"

    @property
    def kind(self) -> str:
        return self.source.partition(":")[0]

    @property
    def ref(self) -> int:
        return int(self.source.partition(":")[2])


# Sent with `work=VerifiedWork(...)`; see the module docstring for the contract.
work_verified = Signal()
