"""Bearer name -> the coroutine that runs one simulated receiver of that bearer.

``ebc receiver run --bearer NAME`` looks the name up here, so a bearer module adds itself
with one line (``RECEIVERS["fm"] = run_fm_receiver``). Every runner takes these keyword
arguments and runs until ``stop`` is set (see ``ReceiverRunner``):
``bearer, input, ebrid, anchors, broker_url, username, password, stop``, plus bearer-specific
options it may ignore (the TS receivers take ``pid``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from signing.trust import TrustStore
from simulators.fm_receiver import run_fm_receiver
from simulators.ts_receiver import run_receiver


class ReceiverRunner(Protocol):
    async def __call__(
        self,
        *,
        bearer: str,
        input: str,
        ebrid: str,
        anchors: TrustStore,
        broker_url: str,
        username: str | None,
        password: str | None,
        stop: asyncio.Event,
        **options: Any,
    ) -> object: ...


RECEIVERS: dict[str, ReceiverRunner] = {
    "dtmb": run_receiver,
    "cable": run_receiver,
    "dth": run_receiver,
    "fm": run_fm_receiver,
}


def register_receiver(bearer: str, runner: ReceiverRunner) -> None:
    """Make ``ebc receiver run --bearer BEARER`` run ``runner`` (replacing any earlier one)."""
    RECEIVERS[bearer] = runner
