"""Wire contracts shared by the API, the consumers, the stream processors and the tests.

Structure only (types, enumerations, lengths, patterns); rules that need a table or a key live in
``laowu.domain``. Imports nothing of ours.
"""
