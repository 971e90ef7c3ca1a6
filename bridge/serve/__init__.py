"""The dashboard (`bridge serve`): the history store, live, in a browser.

``bridge.serve.app`` holds the routes (one list) and pages, ``source`` what each page reads, ``queries``
the dashboard's bounded reads, ``chart`` the history picture's geometry, ``guard`` the token and CSRF
rules, ``runner`` the uvicorn start. The pages are rendered by the templates the static HTML report uses
(``bridge/report/templates``).
"""

from __future__ import annotations
