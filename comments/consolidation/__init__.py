"""Consolidation: dispositions of the comments, the change links, reports and comparisons."""
