"""The server process's startup heap, frozen out of the garbage collector's full passes.

A loaded process holds about 150,000 objects that live as long as it does: modules, classes,
functions, URL patterns, settings. Python's full (oldest-generation) collection walks every one
of them each time it runs, about 80 ms on the bench machine, once every few hundred requests,
and it holds the interpreter lock while it walks: every request a worker's threads are serving
stops with it. Under load that was the slowest percent of the page views (p99 232-255 ms at 8
connections; frozen, 121-146 ms; README "Production").

``gc.freeze`` moves the objects alive at startup into a generation no collection looks at. Only
what was alive then is frozen, after a full collection, so no garbage is kept; reference
counting frees a frozen object that is no longer used as it frees any other. Only server
entry points call this (the WSGI module, the ASGI application's lifespan startup): a test
process is never frozen.
"""

import gc

_frozen = False


def freeze_startup_heap() -> int:
    """Load what every request needs (the URL patterns, and through them the views, forms and
    models), collect, and freeze what is alive. Once per process; returns how many objects
    are frozen."""
    global _frozen
    if not _frozen:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018  # imports every app's views
        gc.collect()
        gc.freeze()
        _frozen = True
    return gc.get_freeze_count()
