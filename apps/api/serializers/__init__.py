"""The REST representations of objects, shared by the API and the webhook bodies."""
