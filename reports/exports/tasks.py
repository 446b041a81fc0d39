"""Export builder tasks."""
