from tests.tickets.ticket_helpers import new_ticket, note, reply


def test_smoke(workspace, queue, admin, agent, requester, login, client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        t = new_ticket(requester, queue)
        reply(t, agent, body="Hello **there**")
        note(t, agent, body="secret NOTE")
    print([m.subject for m in mailoutbox], [m.to for m in mailoutbox])
    login(agent)
    r = client.get("/w/acme/tickets/")
    assert r.status_code == 200, r.content
    r = client.get(f"/w/acme/tickets/{t.number}/")
    assert r.status_code == 200
    assert b"secret NOTE" in r.content
    login(requester)
    r = client.get(f"/w/acme/tickets/{t.number}/")
    assert b"secret NOTE" not in r.content
    r = client.get("/w/acme/tickets/new/")
    assert r.status_code == 200
    r = client.get("/w/acme/tickets/?q=secret")
    assert r.status_code == 200
    assert b"Printer" not in r.content
    r = client.get("/w/acme/tickets/?q=there")
    assert b"Printer" in r.content
