"""Console pages, one module per area; mount_console includes them under /console."""
