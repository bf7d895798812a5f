"""Corpora, splits, vectorizers and batching. TensorFlow-only parts live in their own modules."""
