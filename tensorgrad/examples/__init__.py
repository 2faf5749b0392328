"""Runnable examples: ``python -m tensorgrad.examples.digits`` trains an MLP on the embedded
digits; ``python -m tensorgrad.examples.attention`` trains a small attention model to sort
sequences of digits."""
