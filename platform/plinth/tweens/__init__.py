"""The tweens around every request, one concern each, and their order.

From the outside in (each sees what the ones inside it answer):

1. :mod:`.requestid` gives the request its id and binds it for the logs, so
   that every line logged further in carries it, the access line included;
2. :mod:`.observe` writes the access line and the metrics, once the
   response is final (after the error views and the headers below);
3. :mod:`.headers` adds the security headers to every response, the early
   refusals and the error responses included;
4. :mod:`.cors` answers preflights and marks responses for allowed origins;
5. :mod:`.malformedurl` and 6. :mod:`.bodysize` refuse requests the
   application cannot read, before anything reads them;
7. :mod:`.exceptions` turns an exception into the JSON error response.  It
   sits above pyramid_tm so that an error raised while committing gets the
   JSON shape too, unless pyramid_retry is about to serve the request again.

All of them are above pyramid_tm's tween, which Pyramid places over its own
exception view tween.
"""

from __future__ import annotations

from typing import Any

from pyramid.tweens import INGRESS

# The /docs page relaxes the API's policy; views.py sets it from here.
from .headers import DOCS_CSP

__all__ = ["DOCS_CSP", "includeme"]

ORDER = (
    "plinth.tweens.requestid.request_id_tween_factory",
    "plinth.tweens.observe.observe_tween_factory",
    "plinth.tweens.headers.security_headers_tween_factory",
    "plinth.tweens.cors.cors_tween_factory",
    "plinth.tweens.malformedurl.malformed_url_tween_factory",
    "plinth.tweens.bodysize.body_size_tween_factory",
    "plinth.tweens.exceptions.exception_tween_factory",
)


def includeme(config: Any) -> None:
    above = INGRESS
    for factory in ORDER:
        config.add_tween(factory, under=above)
        above = factory
