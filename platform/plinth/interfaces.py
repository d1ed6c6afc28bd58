"""Interfaces the core asks plugins to provide."""

from zope.interface import Attribute, Interface


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


class IPluginInfo(Interface):
    name = Attribute("the name the plugin is enabled by")
    version = Attribute("the version of its distribution")
