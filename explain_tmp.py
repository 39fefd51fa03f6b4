import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE","helpdesk.settings")
import django; django.setup()
from django.db import connection
from django.db.models import Count, Q
from tickets.models import Ticket, TicketParticipant
from workspaces.models import Membership
def explain(qs):
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        rows=[r[0] for r in c.fetchall()]
    print("\n".join(rows[:12])); print(rows[-1])
for m in [Membership.objects.get(workspace_id=1, user_id=63), Membership.objects.filter(workspace_id=1, role="requester").exclude(user_id=63).order_by("-id").first()]:
    u, w = m.user_id, m.workspace_id
    requested = Ticket.objects.filter(workspace_id=w, requester_id=u).values("id")
    part = TicketParticipant.objects.filter(workspace_id=w, user_id=u).values("ticket_id")
    qs = Ticket.objects.filter(workspace_id=w, id__in=requested.union(part, all=True)).order_by("-updated_at","-id")[:50]
    print("== union, user", u); explain(qs)
    print("== current"); explain(Ticket.objects.visible_to(m).order_by("-updated_at","-id")[:50])
