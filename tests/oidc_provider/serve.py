"""Entry point of the provider subprocess: migrate its own SQLite database, make sure an RSA
signing key exists, then serve on the given loopback port (threaded WSGI) until terminated.

Run as ``python -m tests.oidc_provider.serve PORT`` with the environment ``server.py`` sets.
"""

import os
import sys


def main() -> None:
    port = int(sys.argv[1])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import WSGIServer, run
    from django.core.wsgi import get_wsgi_application
    from oidc_provider.models import RSAKey

    call_command("migrate", interactive=False, verbosity=0)
    if not RSAKey.objects.exists():
        call_command("creatersakey", verbosity=0)
    run("127.0.0.1", port, get_wsgi_application(), threading=True, server_cls=WSGIServer)


if __name__ == "__main__":
    main()
