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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from orders_api import lazy_packages


@contextmanager
def init_phase() -> Iterator[None]:
    """Around the service's imports: lazy packages, and the collector off until they are done."""
    collector_was_on = gc.isenabled()
    gc.disable()
    try:
        lazy_packages.install()
        yield
        gc.freeze()
    finally:
        if collector_was_on:
            gc.enable()
