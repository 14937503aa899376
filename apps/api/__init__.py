"""The REST API: the toolkit (support, auth, filters), payload shapes, one module per resource."""
