from privacy.policies import policy_notice_for


def policy_notice(request):
    """``policy_notice``: the policy versions the signed-in person has not accepted yet.

    A callable, so pages that never show it cost nothing; the work is cached in the session
    (privacy/policies.py)."""
    cached = []

    def notice():
        if not cached:
            cached.append(policy_notice_for(request))
        return cached[0]

    return {"policy_notice": notice}
