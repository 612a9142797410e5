"""Versicolor: a self-hosted experimentation and web-experience platform."""

__version__ = "0.1.0"
