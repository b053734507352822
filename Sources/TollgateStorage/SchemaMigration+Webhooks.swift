extension SchemaMigration {
    /// Webhook URLs per budget and per org (SPEC §13): an alert goes to its budget's, else its
    /// org's, else the server-wide `TOLLGATE_ALERT_WEBHOOK`. The URL an alert was sent to is kept
    /// with it, so a delivery resumed after a restart goes where it was meant to.
    static let webhooks = SchemaMigration(
        name: "v7-webhooks",
        sql: """
            ALTER TABLE orgs ADD COLUMN webhook_url TEXT;
            ALTER TABLE budgets ADD COLUMN webhook_url TEXT;
            ALTER TABLE alerts ADD COLUMN webhook_url TEXT;
            """)
}
