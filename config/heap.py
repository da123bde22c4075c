"""Keep the garbage collector off what start-up built.

After Django is set up a process holds some 70,000 long-lived objects (modules, classes,
the URL resolver, settings, the app registry) that are never garbage. Python's cyclic
collector still walks all of them on every full collection, and that walk lands in whichever
request happens to allocate past the threshold: in bench/gallery.py the slowest of a few hundred
gallery requests took 85-140 ms, and 35-65 ms once the start-up heap was frozen. `gc.freeze()`
moves everything alive now into a permanent generation the collector skips; objects made later
are collected as usual. In a forking server it also keeps the collector from touching (and so
copying) the memory a worker shares with its parent.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once, after Django's setup, before serving: collect what start-up left as garbage,
    then freeze the rest."""
    gc.collect()
    gc.freeze()
