"""The demo's sign-in accounts: one per role, with a shared password (shown by
`flask --app aap demo-accounts`)."""

DEMO_PASSWORD = "demo-aap-2026!"
DEMO_ACCOUNTS = [
    ("association@demo.aap.fr", "applicant"),
    ("evaluateur@demo.aap.fr", "reviewer"),
    ("instructeur@demo.aap.fr", "staff"),
    ("admin@demo.aap.fr", "admin"),
]
