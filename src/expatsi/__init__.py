"""expatsi: social insurance and the Integrated Card for foreigners working in China."""

__version__ = "0.1.0"
