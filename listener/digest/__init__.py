"""Marketing's weekly digest: figures aggregated in the database, charts, an HTML e-mail with a text part.

`period` (which week), `figures` (SQL aggregations), `days` (the usual day and the days that stood out),
`spike_alerts` (the period's spike alerts, read back), `reach` (potential reach and its largest contributors),
`themes` and `noise` (what the week is about, from a bounded sample of texts), `report` (one JSON-able object per
run: what moved, the brands, the competitors), `charts` (matplotlib PNGs), `i18n` and `lines` (words, numbers
rounded once, the sentences both parts say), `render` (Jinja2 + Babel), `mail` (the MIME message and SMTP),
`schedule` (the daemon's once-per-period send), `cli` (`listener digest`).
"""
