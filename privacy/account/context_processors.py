from privacy.account.policies import policy_notice_for


def policy_notice(request):
    """``policy_notice``: None, or ``{"pending": [...], "material": bool}`` for the policy
    versions the signed-in person has not accepted yet.

    A callable, so pages that never show it cost nothing; the work is cached in the session
    (privacy/account/policies.py).
    """
    cached = []

    def notice():
        if not cached:
            pending = policy_notice_for(request)
            cached.append(
                {"pending": pending, "material": any(p["material"] for p in pending)} if pending else None
            )
        return cached[0]

    return {"policy_notice": notice}
