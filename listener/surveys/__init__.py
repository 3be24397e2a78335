"""Did we help? Survey links after an answer (CSAT, CES, NPS) and sentiment recovery (docs/satisfaction.md).

    settings.py   [[survey]] definitions and [report] (recovery_window, timezone)
    models.py     SurveyAnswer: one answer per task (migration 0013_surveys)
    links.py      the signed, expiring, single-task link behind {survey_url}, and which survey a task gets
    answers.py    recording an answer once, changing it within `change_within`
    page.py       the public page on [web]: no sign-in, no script, de/en, rate-limited, forged 400, expired 410
    figures.py    CSAT %, average CES, NPS, response rate: GROUP BY per rule, agent, brand, category, week
    recovery.py   what the same contact posted next within [report] recovery_window, in SQL
    report.py     both together for `listener report`, the inbox's report page and the digest's care section
    metrics.py    Prometheus gauges read from the database (counts only)
    privacy.py    answers in privacy exports; erase clears the comment
"""
