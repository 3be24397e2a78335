"""The care inbox: a small server-rendered web app (Starlette + Jinja2) the daemon serves (docs/web.md)."""
