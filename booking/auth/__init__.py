"""Staff and device access: who is asking, and whether their role and location allow it.

``guards`` is what routes use; the other modules are the pieces behind it (passwords,
sessions, tokens, single sign-on, account rules).
"""
