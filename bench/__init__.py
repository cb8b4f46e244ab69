"""The benchmark: `python -m bench` (or `make bench`).

It fills a database in bulk with a province-sized workload, times the busiest pages
through the real application against bare "floor" endpoints on the same data, times
the import, the report export and the reminder scan, and measures comment submission
through gunicorn. Results go to the terminal and to `bench/results.json`.
"""
