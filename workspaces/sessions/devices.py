"""What a session row says about the browser: "Firefox 128 on Windows" and the network of its
address, never the full address or the raw user-agent string.

A short in-house mapping rather than a user-agent database: a person needs to recognise their
own browsers ("Chrome on Android", "Safari on iPhone"), not the exact model, and the rules
below cover the browsers and systems people use; anything else shows as "Unknown browser".
"""

import ipaddress
import re

from django.utils.translation import gettext_lazy as _

from privacy.audit.log import client_ip

DEVICE_MAX = 100
UNKNOWN_BROWSER = _("Unknown browser")
UNKNOWN_NETWORK = _("Unknown network")
IPV4_PREFIX = 24
IPV6_PREFIX = 48

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux",
# iPads say "Mac OS X".
BROWSERS = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|OPiOS)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Headless Chrome", re.compile(r"\bHeadlessChrome/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)(?:[.\d]*)(?: Mobile/\S+)? Safari/")),
    ("curl", re.compile(r"^curl/(\d+)")),
)
SYSTEMS = (
    ("Android", re.compile(r"\bAndroid\b")),
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)


def describe_user_agent(user_agent: str) -> str:
    """``"Firefox 128 on Windows"``, ``"Safari on iPhone"`` (no version: Safari's follows the
    system), ``"Unknown browser on Linux"``, or ``"Unknown browser"``."""
    user_agent = user_agent or ""
    browser = UNKNOWN_BROWSER
    for name, pattern in BROWSERS:
        match = pattern.search(user_agent)
        if match:
            browser = name if name == "Safari" else f"{name} {match.group(1)}"
            break
    system = next((name for name, pattern in SYSTEMS if pattern.search(user_agent)), "")
    return (f"{browser} on {system}" if system else browser)[:DEVICE_MAX]


def network_of(ip: str | None) -> str:
    """The IPv4 /24 or IPv6 /48 ``ip`` belongs to (``"203.0.113.0/24"``), or ``""``."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def place_label(network: str) -> str:
    """How the page names a network: ``"203.0.113.x"``; an IPv6 network as itself
    (``"2001:db8:abcd::/48"``). There is no location database, so the network is the place."""
    if not network:
        return UNKNOWN_NETWORK
    try:
        net = ipaddress.ip_network(network)
    except ValueError:
        return UNKNOWN_NETWORK
    if net.version == 4:
        return ".".join(str(net.network_address).split(".")[:3]) + ".x"
    return str(net)


def device_of(request) -> str:
    return describe_user_agent(request.META.get("HTTP_USER_AGENT", ""))


def network_of_request(request) -> str:
    return network_of(client_ip(request))
