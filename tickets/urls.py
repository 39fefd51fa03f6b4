from django.urls import path

from tickets import views

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
]
