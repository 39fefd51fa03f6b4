"""Websocket routes of the tickets app, mirroring the pages under ``/w/<slug>/tickets/``.

The paths come from ``tickets.live_contract``, the one definition the pages also hand to
live.js; each consumer names the route it serves."""

from django.urls import path

from tickets.consumers import TicketConsumer, TicketListConsumer

websocket_urlpatterns = [
    path(consumer.route.path, consumer.as_asgi(), name=f"ws_{consumer.route.name}")
    for consumer in (TicketListConsumer, TicketConsumer)
]
