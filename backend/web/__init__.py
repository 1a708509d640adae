"""The web pages the backend serves beside the terminal API: the cash desk
(``/cash-desk``), the administration console (``/admin``) and each user's own page
(``/me``).

Server-rendered (Jinja2, autoescaped) with htmx for the small live parts, so that one
process serves terminals and browsers and a page works without a build step or a CDN.
:func:`backend.web.mount.install_web` adds everything to the FastAPI app.
"""
