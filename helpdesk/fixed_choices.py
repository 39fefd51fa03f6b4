"""Choices a form field shows as they are: (value, label) pairs, shared by every copy of the
field.

Django normalizes a list of choices on every assignment (a call per choice) and copies it into
every form built (a form deep-copies its class's fields): for the ticket list's filters, whose
assignee choices are every agent and admin of the workspace, that was most of building the form
on each list page. ``FixedChoices`` is already in the shape Django wants (an iterator of choices,
which it takes as it is) and is never changed, so copies share it."""

from django.utils.choices import BaseChoiceIterator


class FixedChoices(BaseChoiceIterator):
    """``choices`` for a ``ChoiceField`` (or its widget): flat (value, label) pairs, no groups.
    Labels may be lazy translations; they are read when the field is shown."""

    def __init__(self, pairs):
        self.pairs = tuple((value, label) for value, label in pairs)

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self
