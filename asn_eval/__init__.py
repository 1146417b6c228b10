"""asn-eval: evaluating personnel policy and ASN performance (Kota Kupang first)."""

__version__ = "0.1.0"
