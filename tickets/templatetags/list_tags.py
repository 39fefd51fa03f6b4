"""The ticket list's rows (tickets.list_rows): ``{% ticket_rows tickets membership %}`` for the
page, ``{% ticket_row ticket membership %}`` for one row (the live rows' template)."""

from django import template

from tickets.list_rows import RowRenderer

register = template.Library()


@register.simple_tag
def ticket_rows(tickets, membership):
    return RowRenderer(membership).rows(tickets)


@register.simple_tag
def ticket_row(ticket, membership):
    return RowRenderer(membership).rows([ticket])
