#!/usr/bin/python3
"""Write a private key in cosign's encrypted format, without cosign:
PKCS#8 DER, scrypt (N, r=8, p=1) over the password, NaCl secretbox
(python3-nacl), the JSON envelope, base64 in a PEM block
(../shared/reference/signing.md, section 3).

usage: cosign-key.py IN.pem OUT.key PASSWORD N LABEL
  IN.pem   any private key openssl wrote (converted to PKCS#8 DER here)
  LABEL    "ENCRYPTED SIGSTORE PRIVATE KEY" or "ENCRYPTED COSIGN PRIVATE KEY"
"""
import base64
import hashlib
import json
import os
import sys

import nacl.secret
from cryptography.hazmat.primitives import serialization

src, dst, password, n, label = sys.argv[1:6]
n = int(n)
with open(src, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
der = key.private_bytes(serialization.Encoding.DER,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
salt = os.urandom(32)
box_key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1,
                         dklen=32, maxmem=256 << 20)
nonce = os.urandom(24)
sealed = nacl.secret.SecretBox(box_key).encrypt(der, nonce).ciphertext
env = {
    "kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1},
            "salt": base64.b64encode(salt).decode()},
    "cipher": {"name": "nacl/secretbox",
               "nonce": base64.b64encode(nonce).decode()},
    "ciphertext": base64.b64encode(sealed).decode(),
}
body = base64.b64encode(json.dumps(env).encode()).decode()
with open(dst, "w") as f:
    f.write("-----BEGIN %s-----\n" % label)
    for i in range(0, len(body), 64):
        f.write(body[i:i + 64] + "\n")
    f.write("-----END %s-----\n" % label)
