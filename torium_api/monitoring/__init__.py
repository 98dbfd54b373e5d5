"""Seeing the background work: heartbeats, EMF metrics, the loops' supervision and the operator's status.

- ``supervision.py``: backoff, throttled error logs and the stall exit for every background loop;
- ``heartbeats.py``: the ``heartbeats`` table's rows (``models.py``) and the ``Heartbeat`` metric;
- ``metrics.py``: CloudWatch embedded metric format lines (stdout, and the CloudWatch agent when configured);
- ``status.py``: what ``flask ops status`` shows (heartbeats, the outbox backlog, DLQ depths, scheduled jobs).
"""
