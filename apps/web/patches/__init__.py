"""Pages for patches, cover letters, comments, bundles and to-do lists (split by topic)."""
