"""What the test provider says about a person. ``email_verified`` is false for accounts in the
"unverified" group, so tests can present an address the provider never confirmed."""

UNVERIFIED_GROUP = "unverified"


def userinfo(claims, user):
    claims["email"] = user.email
    claims["email_verified"] = not user.groups.filter(name=UNVERIFIED_GROUP).exists()
    claims["name"] = user.get_full_name() or user.username
    return claims
