"""The REST API (layer 5): above the domain and events, below webhooks and the edges.

- support.py, auth.py, versions.py, filters.py: the toolkit: contexts, errors,
  bodies, paging; who is calling; what each version added (and ``begin``);
  the list filters and the ``q`` search.
- serializers/: the payload shapes (REST representations), which webhook
  bodies reuse.
- one module per resource (index, projects, patches, comments, covers,
  bundles, checks, series, events), with module-level ninja routers;
  routes.py says which routers each version mounts.

config/api.py assembles one NinjaAPI per version from routes.py (plus the
webhooks' own router). This package imports nothing from webhooks, live, web,
mail or xmlrpc.
"""
