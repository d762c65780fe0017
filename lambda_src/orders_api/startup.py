"""Lambda's init phase, made shorter: what ``orders_api.handler`` does around importing the service.

- **Lazy Powertools packages** (``lazy_packages``): the resolvers and event classes the function never
  uses are not imported.
- **No garbage collection while modules load.** Importing the service creates some 60,000 objects
  that live as long as the process; the collector would walk them about eighty times during the
  import (``make bench`` shows the start-up measures together). ``init_phase()`` switches it off and,
  once the import has succeeded, moves everything alive into the permanent generation
  (``gc.freeze``) before switching it back on: later collections, on the warm path too, no longer
  walk the modules' objects. The price: the several hundred cyclic garbage objects the import leaves
  are never freed (a full collection to free them would cost more than the pause it saves). If the
  import fails, the collector comes back as it was and nothing is frozen.
- **No character detection library.** requests imports charset-normalizer, when installed, to guess
  the encoding of answers that name none; the function reads only JSON, whose encoding needs no
  guessing, so its asset leaves the library out (``lambda_src/requirements.txt``) and requests falls
  back to UTF-8, as it documents. ``init_phase()`` silences the one warning requests gives about that
  at import, so that it does not reach the log on every cold start.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from orders_api import lazy_packages

# What requests says at import when neither chardet nor charset-normalizer is installed.
_NO_CHARACTER_DETECTION = "Unable to find acceptable character detection dependency"


@contextmanager
def init_phase() -> Iterator[None]:
    """Around the service's imports: lazy packages, requests without character detection, and the
    collector off until they are done."""
    warnings.filterwarnings("ignore", message=_NO_CHARACTER_DETECTION, module="requests")
    collector_was_on = gc.isenabled()
    gc.disable()
    try:
        lazy_packages.install()
        yield
        gc.freeze()
    finally:
        if collector_was_on:
            gc.enable()
