"""Sections of the weekly summary email, contributed by the apps that hold the data.

The summary is sent by ``privacy.account.weekly_summary`` (which knows who opted in), but the
tickets it counts belong to the ``tickets`` app, which privacy may not import. So, as with
``helpdesk.outbound``'s preference checks, the lower layer holds a registry: ``tickets`` registers
``provider(user) -> list[dict]`` from its ``AppConfig.ready`` and the sender asks ``sections_for``.
"""

from collections.abc import Callable

SectionProvider = Callable[[object], list[dict]]
_providers: list[SectionProvider] = []


def register_section(provider: SectionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def sections_for(user) -> list[dict]:
    """Every section the registered apps have for ``user`` (empty when nothing concerns them)."""
    return [section for provider in _providers for section in provider(user)]
