"""The cabinet's web console (`publish serve`): a thin face over the same core as the
command line. Starlette routes, Jinja2 templates and htmx, every asset served by the
app; nothing here is imported by `publish --help` or the read commands."""
