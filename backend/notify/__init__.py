"""E-mail notifications: the outbox, its worker, templates and the rules that fill it
(docs/notifications.md)."""
