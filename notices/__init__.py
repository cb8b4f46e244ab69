"""The notification record, its outbox and `notify()`: a base layer every domain package may use."""
