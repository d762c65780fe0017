"""What the function does around its own import (Lambda's init phase) to start sooner.

- **Lazy Powertools packages** (``lazy_packages``): the resolvers and event classes the function never
  uses are not imported.
- **No garbage collection while modules load.** Importing the handler creates some 65,000 objects
  that live as long as the process; the collector would walk them about ninety times during the
  import, for a few per cent of the cold path (``make bench``). ``begin()`` switches it off,
  ``done()`` moves everything alive into the permanent generation (``gc.freeze``) and switches it
  back on: later collections, on the warm path too, no longer walk the modules' objects. The price:
  the few hundred cyclic garbage objects the import leaves are never freed (a full collection to
  free them would cost more than the pause it saves).
"""

from __future__ import annotations

import gc

from orders_api import lazy_packages

_collector_was_on = False


def begin() -> None:
    """Before the handler's imports: the collector off, two Powertools packages lazy."""
    global _collector_was_on
    _collector_was_on = _collector_was_on or gc.isenabled()  # a second call must not lose it
    gc.disable()
    lazy_packages.install()


def done() -> None:
    """After them: what the import built becomes permanent, and the collector is on as it was."""
    gc.freeze()
    if _collector_was_on:
        gc.enable()
