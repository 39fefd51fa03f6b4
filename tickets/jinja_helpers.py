"""What the ticket pages' Jinja2 templates may call (helpdesk/jinja.py): the same functions as
the Django template tags and filters of tickets/templatetags, which the other pages use."""

from tickets.templatetags.bulk_tags import merged_target
from tickets.templatetags.custom_field_tags import field_value
from tickets.templatetags.list_tags import ticket_rows
from tickets.templatetags.live_tags import live_attributes, presence_labels
from tickets.templatetags.macro_tags import chosen_macro, macro_effects, usable_macros
from tickets.templatetags.sla_tags import sla_kind_label, sla_state_label, sla_targets
from tickets.templatetags.ticket_tags import conversation_html, person

GLOBALS = {
    "chosen_macro": chosen_macro,
    "conversation_html": conversation_html,
    "field_value": field_value,
    "live_attributes": live_attributes,
    "merged_target": merged_target,
    "person": person,
    "presence_labels": presence_labels,
    "sla_targets": sla_targets,
    "ticket_rows": ticket_rows,
    "usable_macros": usable_macros,
}
FILTERS = {
    "macro_effects": macro_effects,
    "sla_kind_label": sla_kind_label,
    "sla_state_label": sla_state_label,
}
