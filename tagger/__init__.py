"""tagger: lifecycle segments and preference tags for monthly user exports."""

__version__ = "0.1.0"
