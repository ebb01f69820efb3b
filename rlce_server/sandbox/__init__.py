"""Sandboxes: the backend interface, the Docker backend, its hardening policy,
a fake for unit tests, and the in-container runner (``rlce_runner``)."""
