"""Interfaces the core asks plugins to provide."""

from zope.interface import Interface


class IIdentityProvider(Interface):
    """Turns a request's credentials into an identity (registered by auth)."""

    def identify(request):
        """Return an :class:`plinth.security.Identity` or None when the request
        carries no valid credentials.

        Credentials are the ``Authorization`` header, or else the credential a
        plugin handed over for one of its own routes with
        :func:`plinth.security.use_session_credential` (read it with
        :func:`plinth.security.session_credential`)."""

    def expand_principal(db, principal):
        """Return the principals ``principal`` stands for, itself included
        (a user's groups, for example), or None if it names nobody known."""

    def allowed_users(db, rule, after, limit):
        """Names of the active users a :class:`plinth.whocan.WhoRule` allows,
        sorted, those after ``after`` only (None: from the start), at most
        ``limit`` (None: all).  Optional: without it ``@@who`` lists nobody.

        A user holds ``user:NAME`` and ``group:G`` for each of its groups; the
        rule's first entry naming one of them decides, else ``rule.default``;
        a user holding one of ``rule.superusers`` is always allowed."""

    def members(db):
        """A selectable of (principal, user) pairs: ``user:NAME`` for each
        user, ``group:G`` for each member of G, and both system principals
        for every user (active users only).
        Optional: reports expand principals to users with it."""
