"""Command-line argument types shared by the benchmark scripts."""

import argparse


def positive_int(text):
    """Parse a command-line count, rejecting zero and negative values (an argparse ``type``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
