"""Loopback emulators of the cloud providers, spoken to by the real, unmodified SDKs.

Each emulator runs in-process on 127.0.0.1 (port 0, a thread) for tests, or as a standalone
process for the demo (``python -m cloud_emulators.<name> --port N``).
"""
