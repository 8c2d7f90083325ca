"""Answering: hybrid retrieval and the composition of quoted, cited answers."""
