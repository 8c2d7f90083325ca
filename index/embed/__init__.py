"""Embedding: the bundled model on torch or ONNX, and its one-time ONNX export."""
