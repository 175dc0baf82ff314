"""Writes and signs root.layout for the classic in-toto demo supply chain
(clone and update-version by bob, package by carl, an untar inspection),
with in-toto 1.x and securesystemslib 0.x. Usage: layout.py KEYTYPE DIR."""
import sys

from securesystemslib import interface
from in_toto.models.layout import Layout
from in_toto.models.metadata import Metablock

keytype, d = sys.argv[1], sys.argv[2]
if keytype == "rsa":
    load_pub = interface.import_rsa_publickey_from_file
    owner = interface.import_rsa_privatekey_from_file(d + "/alice")
elif keytype == "ed25519":
    load_pub = interface.import_ed25519_publickey_from_file
    owner = interface.import_ed25519_privatekey_from_file(d + "/alice")
else:
    load_pub = interface.import_ecdsa_publickey_from_file
    owner = interface.import_ecdsa_privatekey_from_file(d + "/alice")
bob = load_pub(d + "/bob.pub")
carl = load_pub(d + "/carl.pub")

clone_cmd = ["git", "clone", "-q", "../upstream/demo-project.git", "demo-project"]
package_cmd = ["tar", "--exclude", ".git", "-zcvf", "demo-project.tar.gz", "demo-project"]
layout = Layout.read({
    "_type": "layout",
    "expires": "2036-01-01T00:00:00Z",
    "keys": {bob["keyid"]: bob, carl["keyid"]: carl},
    "steps": [
        {"name": "clone", "expected_materials": [],
         "expected_products": [["CREATE", "demo-project/foo.py"], ["DISALLOW", "*"]],
         "pubkeys": [bob["keyid"]], "expected_command": clone_cmd, "threshold": 1},
        {"name": "update-version",
         "expected_materials": [["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "clone"], ["DISALLOW", "*"]],
         "expected_products": [["MODIFY", "demo-project/foo.py"], ["DISALLOW", "*"]],
         "pubkeys": [bob["keyid"]], "expected_command": [], "threshold": 1},
        {"name": "package",
         "expected_materials": [["MATCH", "demo-project/*", "WITH", "PRODUCTS", "FROM", "update-version"], ["DISALLOW", "*"]],
         "expected_products": [["CREATE", "demo-project.tar.gz"], ["DISALLOW", "*"]],
         "pubkeys": [carl["keyid"]], "expected_command": package_cmd, "threshold": 1},
    ],
    "inspect": [
        {"name": "untar",
         "expected_materials": [
             ["MATCH", "demo-project.tar.gz", "WITH", "PRODUCTS", "FROM", "package"],
             ["ALLOW", "*.link"], ["ALLOW", "*.pub"], ["ALLOW", "root.layout"], ["DISALLOW", "*"]],
         "expected_products": [
             ["MATCH", "demo-project/foo.py", "WITH", "PRODUCTS", "FROM", "update-version"],
             ["ALLOW", "demo-project.tar.gz"], ["ALLOW", "*.link"], ["ALLOW", "*.pub"],
             ["ALLOW", "root.layout"], ["DISALLOW", "*"]],
         "run": ["tar", "xzf", "demo-project.tar.gz"]},
    ],
})
md = Metablock(signed=layout)
md.sign(owner)
md.dump(d + "/root.layout")
