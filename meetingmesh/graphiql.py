"""GraphiQL served by the gateway itself: no CDN, and a page policy that allows only it.

The page at ``/graphql`` (for browsers) loads React, GraphiQL and a small bootstrap
script from ``/graphiql/``, which serves ``meetingmesh/static/graphiql``: pinned
builds shipped inside the package with their licences (``VERSIONS.json`` lists each
file's package, version and sha256; ``scripts/refresh_graphiql.py`` refreshes them).
The page's ``Content-Security-Policy`` allows scripts, styles and requests to the
gateway's own origin only, so the explorer works offline and behind a strict policy.

The build is GraphiQL 4's UMD bundle, which carries graphql-ws: ``meetingmesh.js`` runs
subscriptions over the WebSocket (``/graphql?transport=ws``, the default) or over
Server-Sent Events (``/graphql?transport=sse``). The policy's ``connect-src 'self'``
covers the page's own ``ws://`` origin too.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

#: Where the assets are served.
ASSETS_PATH = "/graphiql"
ASSETS_DIR = Path(__file__).resolve().parent / "static" / "graphiql"

#: What a first-time visitor sees in the editor: the README's first example.
DEFAULT_QUERY = """\
{
  meetings(first: 5, filter: {startsAfter: "2026-05-22T12:00:00Z"}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      node {
        id provider title startTime durationMinutes status
        course { title }
        hosts { name }
        attendees(first: 3) { totalCount edges { node { name } } }
      }
    }
    aggregations { key buckets { value count } }
  }
}
"""

#: Only the gateway's own origin; fonts and icons inside GraphiQL's stylesheet are data URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "meetingmesh.js",
)
_STYLES = ("graphiql.min.css", "meetingmesh.css")

_PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>meetingmesh GraphiQL</title>
    <link rel="icon" href="data:,">
{links}
{scripts}
    <script type="application/json" id="graphiql-settings">{settings}</script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL&hellip;</div>
  </body>
</html>
"""


def page(root_path: str = "") -> HTMLResponse:
    """The GraphiQL page, with the policy that confines it to the gateway's origin."""
    base = f"{root_path}{ASSETS_PATH}"
    links = "\n".join(f'    <link rel="stylesheet" href="{base}/{name}">' for name in _STYLES)
    scripts = "\n".join(f'    <script defer src="{base}/{name}"></script>' for name in _SCRIPTS)
    # "<" escaped, so no query text can close the JSON block early.
    settings = json.dumps({"defaultQuery": DEFAULT_QUERY}).replace("<", "\\u003c")
    html = _PAGE.format(links=links, scripts=scripts, settings=settings)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def assets() -> Mount:
    """The route serving GraphiQL's files from the package."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIR), name="graphiql")
