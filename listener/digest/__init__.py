"""Marketing's weekly digest: figures aggregated in the database, charts, an HTML e-mail with a text part.

`period` (which week), `figures` (SQL aggregations), `themes` (rising terms from a bounded sample of texts),
`report` (one JSON-able object per run), `charts` (matplotlib PNGs), `render` (Jinja2 + Babel), `mail`
(the MIME message and SMTP), `schedule` (the daemon's once-per-period send), `cli` (`listener digest`).
"""
