"""The real-name ledger (实名制台账) as a decision: what loads, what decides, what saves.

* ``rules``: which domain rule decides each event type the ledger consumes;
* ``deferral``: what an event may wait for, and what wakes it;
* ``state`` / ``decide``: an in-memory state and the pure ``decide(state, events)`` over it;
* ``derived``: the derived events (``ledger.changed``, alerts, subsidies) as they travel, for the ledger and the
  sweeper alike;
* ``repository``: how a state is loaded and a decision saved — ``postgres`` (the system of record) and
  ``memory`` (a fake for unit tests) implement it.
"""
