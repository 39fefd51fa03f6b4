"""The person's own account page. The page and its actions live in privacy/views_account.py
(issue 6: see, correct, export and delete my own data); this name stays for the URLconfs."""

from privacy.views_account import account_page as account_home

__all__ = ["account_home"]
