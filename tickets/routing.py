"""Websocket routes of the tickets app, mirroring the pages under ``/w/<slug>/tickets/``."""

from django.urls import path

from tickets.consumers import TicketConsumer, TicketListConsumer

websocket_urlpatterns = [
    path("ws/w/<slug:slug>/tickets/", TicketListConsumer.as_asgi()),
    path("ws/w/<slug:slug>/tickets/<int:number>/", TicketConsumer.as_asgi()),
]
