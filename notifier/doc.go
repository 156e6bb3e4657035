// Package notifier owns notification groups, subscriptions (double opt-in,
// preferences, one-click unsubscribe), the events that feed them, turning
// events into messages, the outbox, digests and SMTP delivery. Its tables
// live in the server's SQLite database; it applies its own migrations.
package notifier
