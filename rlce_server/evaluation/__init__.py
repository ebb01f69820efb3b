"""``rlce eval``: score a benchmark's samples sandboxed and report pass@k.

formats   recognise problem and sample files, build requests
passk     the unbiased pass@k estimator
report    summary table, per-sample JSONL, HTML report
runner    stream the requests to a server (or a local pool) with progress
"""
