"""The application layer: commands, their handlers and the catalogue that ties each event type to them.

Every door (single requests, ``/v1/events:batch``, the Excel import, the simulator) parses its input into a
:mod:`~laowu.application.commands` command and lets :func:`laowu.application.catalogue.decide` decide it, so a rule
gives the same verdict whatever the door; the doors only render it (``laowu.application.errors``).
"""
