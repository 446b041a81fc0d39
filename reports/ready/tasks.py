"""Report tasks."""
