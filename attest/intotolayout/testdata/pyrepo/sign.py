"""Signs in-toto's demo layout template (tests/demo_files of in-toto at
commit 9a1efed3) as in-toto's own verification tests do before they verify
it: with an expiry, by alice (RSA, PEM keys) into demo-rsa.layout and by
danny (Ed25519, securesystemslib JSON keys) into demo-ed25519.layout. Run
with in-toto 1.3.1 / securesystemslib 0.26 (Debian bookworm):
    /usr/bin/python3 sign.py DIR_WITH_PRIVATE_KEYS"""
import os
import sys

from securesystemslib import interface
from in_toto.models.metadata import Metablock

keys = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
for name, key in [
    ("demo-rsa.layout", interface.import_rsa_privatekey_from_file(os.path.join(keys, "alice"))),
    ("demo-ed25519.layout", interface.import_ed25519_privatekey_from_file(os.path.join(keys, "danny"))),
]:
    md = Metablock.load(os.path.join(here, "demo.layout.template"))
    md.signed.expires = "2036-01-01T00:00:00Z"
    md.signatures = []
    md.sign(key)
    md.dump(os.path.join(here, name))
