"""Streaming writers: CSV, XLSX, JSON and PDF, shared by the export builder and the reports."""
