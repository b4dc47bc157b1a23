"""Watches: saved queries over the news that mediawatch ingests, matched article by article as they arrive.

:mod:`tasks.watch.query` parses the query language into a tree (tokens from :mod:`tasks.watch.lexer`, the tree and
its canonical text in :mod:`tasks.watch.tree`), :mod:`tasks.watch.match` tests one article (its text, entities and
figures) against a query and says why it matched (the article read once in :mod:`tasks.watch.article`, word tokens
and sentences in :mod:`tasks.watch.text`, queries compiled in :mod:`tasks.watch.compile`), :mod:`tasks.watch.watches`
reads the watch file (``deployments/watches.toml``). Everything here is pure: no Prefect, no lake, no network.
"""
