"""The interfaces shared things are found by (pyramid_services).

The core registers the engines and the session factory; plugins register
the identity provider and the login limiter.  Ask for one with
``request.find_service(IReadEngine)`` in a view, or
:func:`plinth.services.query_service` outside a request.  Each docstring is
the contract.
"""

from zope.interface import Attribute, Interface


class IReadEngine(Interface):
    """The SQLAlchemy ``Engine`` of the database, for reading.

    Registered by the core; a plugin may register another one under a name
    of its own (reporting: ``name="reporting"``, its replica).  Requests use
    ``request.db``; this is for work outside the request's transaction."""


class IWriteEngine(Interface):
    """The same database's ``Engine`` for transactions that write.

    On SQLite its transactions take the write lock up front (``BEGIN
    IMMEDIATE``), so that concurrent writers wait instead of failing; use it
    for any short transaction of one's own that writes (recording a use, an
    audit line that must outlive the request's rollback)."""


class ISessionFactory(Interface):
    """A ``sessionmaker`` whose sessions join the request's transaction
    (zope.sqlalchemy), as ``request.db`` does.  Views never commit."""


class LimiterUnavailable(Exception):
    """A login limiter cannot count (its storage is down) and refuses logins."""


class ILoginLimiter(Interface):
    """Counts failed logins per account and per client (registered by auth).

    Anything that checks passwords (the JSON login, a browser sign-in form)
    asks it first and tells it about each failure, so that both share one
    budget."""

    def retry_after(username, client):
        """Seconds to wait before ``username`` may try again from ``client``,
        or None when a try is allowed.  Raises :class:`LimiterUnavailable`
        when it cannot count and its policy is to refuse logins then."""

    def failed(username, client):
        """Count one failed login of ``username`` from ``client``."""


class IIdentityProvider(Interface):
    """Turns a request's credentials into an identity (registered by auth)."""

    scheme = Attribute(
        "The HTTP authentication scheme of the credentials it reads (``Bearer``): "
        "a 401 challenges with it in ``WWW-Authenticate``."
    )

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
