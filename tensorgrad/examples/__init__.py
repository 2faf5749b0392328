"""Runnable examples: ``python -m tensorgrad.examples.digits`` trains an MLP on the embedded
digits."""
