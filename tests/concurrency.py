"""Running the same work from several threads at once, each on its own database connection."""

import threading

from django.db import connections


def run_threads(count, target):
    """Start ``count`` threads together (a barrier) running ``target(index)``; fail on any error."""
    errors = []
    start = threading.Barrier(count)

    def runner(index):
        try:
            start.wait()
            target(index)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
