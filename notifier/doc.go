// Package notifier owns notification groups, subscriptions (double opt-in,
// preferences, one-click unsubscribe), the events that feed them, turning
// events into messages, the outbox, digests and SMTP delivery. Its tables
// live in the server's SQLite database; it applies its own migrations
// (internal/migrate). Every SQL statement is in a store method, one file per
// table (store_*.go); the events other parts write come through
// notifier/events.
package notifier
