"""Read-only queries behind statements, member pages and dashboards."""
