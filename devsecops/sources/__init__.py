"""Replay adapters: each turns one kind of raw input file into the Lambda events AWS delivers."""
