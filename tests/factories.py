"""factory_boy factories. Every sub-factory stays in its parent's workspace."""

import factory
from django.utils import timezone

from tickets.bodies import body_html_of
from tickets.models import Message, MessageKind, Status, Ticket, TicketParticipant
from workspaces.models import Membership, Queue, Role, User, Workspace

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.REQUESTER


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Queue {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    workspace = factory.SubFactory(WorkspaceFactory)
    queue = factory.SubFactory(QueueFactory, workspace=factory.SelfAttribute("..workspace"))
    requester = factory.SubFactory(UserFactory)
    number = factory.Sequence(lambda n: n + 1)
    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    status = Status.NEW


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    workspace = factory.SelfAttribute("ticket.workspace")
    author = factory.SelfAttribute("ticket.requester")
    kind = MessageKind.REPLY
    body = factory.Sequence(lambda n: f"Message body {n}")
    # As the services store it: rendered once when written.
    body_html = factory.LazyAttribute(lambda o: body_html_of(o.body))


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketParticipant

    ticket = factory.SubFactory(TicketFactory)
    workspace = factory.SelfAttribute("ticket.workspace")
    user = factory.SubFactory(UserFactory)
