"""zhpress: a publication builder for Chinese-language books (EPUB 3 and print-ready PDF editions)."""

__version__ = "0.1.0"
