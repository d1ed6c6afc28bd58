from __future__ import annotations

from pyramid.authorization import Allow, Authenticated

from plinth.api import Resource


class Hello(Resource):
    """``/hello``: any authenticated user may read it unless an ACL says otherwise."""

    __default_acl__ = [(Allow, Authenticated, "example.view")]
    __view_permission__ = "example.view"
