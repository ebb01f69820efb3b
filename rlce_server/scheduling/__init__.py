"""Admission, warm pools and the per-job runner."""
