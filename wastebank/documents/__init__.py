"""Printable documents (receipts, later member cards) rendered to PDF bytes.

Everything in this package is framework-free: functions take plain data
objects and return ``bytes``; nothing here imports Flask or touches the
database, so the renderers can be unit-tested and reused from CLI tools.
"""
