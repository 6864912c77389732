"""Suite-wide settings."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from dispatcher.console.passwords import use_hasher

# Production argon2 costs ~0.1-0.3 s per hash on these 2 cores; the console tests create and
# log in many accounts, and what they check does not depend on the work factor.
use_hasher(PasswordHasher.from_parameters(CHEAPEST))
