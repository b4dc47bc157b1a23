"""Watches: saved queries over the news that mediawatch ingests, matched article by article as they arrive.

:mod:`tasks.watch.query` parses the query language into a tree, :mod:`tasks.watch.match` tests one article
(its text, entities and figures) against a query and says why it matched, :mod:`tasks.watch.watches` reads the
watch file (``deployments/watches.toml``). Everything here is pure: no Prefect, no lake, no network.
"""
