"""Pure domain rules of the labor brand (劳务品牌) platform: identity numbers, regions, credit codes.

Nothing here does I/O beyond reading python-stdnum's bundled data, so every rule can be unit-tested
without services and reused by the API, the consumers and the stream processors alike.
"""
