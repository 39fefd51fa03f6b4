"""Websocket routes. Each app adds its consumers here."""

from tickets.routing import websocket_urlpatterns as ticket_routes

websocket_urlpatterns = [*ticket_routes]
