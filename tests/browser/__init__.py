"""Browser tests (a package, so that its conftest is ``browser.conftest`` beside the suite's ``conftest``)."""
