"""Pseudonymous patient codes: BAC-XXXX-XXXX from an alphabet without look-alike characters."""

import secrets

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: a code read aloud or copied by hand stays unambiguous.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"


def generate_code() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"BAC-{chars[:4]}-{chars[4:]}"


def normalise_code(raw: str) -> str:
    return raw.strip().upper()
