"""EBC benchmarks: `make bench` (= `python -m bench`) runs them all and writes RESULTS.md.

Modules: intake (signed CAP alerts accepted per second, latency, accept to first publish),
fanout (accept to 50/99/100% acks beside the bare-broker floor), acks (ack ingestion into
SQLite and PostgreSQL), sm2 (sign and verify per second). Each has ``run(quick=...)``
returning a Section; ``--quick`` runs them all at toy sizes.
"""
