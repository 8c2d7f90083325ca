"""One extension per feature area: questions, sources, admin."""
