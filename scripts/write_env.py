"""Write a development .env with fresh random keys (run once by `make run`)."""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

target = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if target.exists():
    sys.exit(0)
target.write_text(
    "# Written by `make run` for local development. See .env.example for every variable.\n"
    "DJANGO_ENV=development\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
)
print(f"wrote {target} with fresh SECRET_KEY and FIELD_ENCRYPTION_KEYS")
