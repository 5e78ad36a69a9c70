"""Signed QR credentials for the Integrated Card, verifiable offline (the EU DCC design).

Pure Python, no Django: CBOR claims → COSE_Sign1 (Ed25519) → zlib → Base45 with a versioned prefix
in the QR alphanumeric set. A verifier holds a signed trust list (public keys by key id) and a
signed revocation list (truncated hashes of revoked tokens), both signed by a trust anchor key.
"""
