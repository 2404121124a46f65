"""The stand-in's service-account issuer: real RS256 and ES256 keys made with
the openssl CLI, their JWK set as kube-apiserver publishes it at
/openid/v1/jwks, and JWTs signed with them (RFC 7515 compact form; ES256 as
raw r||s, RFC 7518 section 3.4). Keys can be rotated.
"""

import base64
import json
import os
import secrets
import subprocess
import threading

ISSUER = "https://kubernetes.default.svc.cluster.local"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def _der_to_raw(der, size=32):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to r||s."""
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        n = der[i + 1]
        out += der[i + 2:i + 2 + n].lstrip(b"\0").rjust(size, b"\0")
        i += 2 + n
    return out


class Key:
    def __init__(self, directory, alg, kid=None):
        self.alg = alg
        self.kid = kid or b64url(secrets.token_bytes(12))
        self.path = os.path.join(directory, "sa-%s.key" % self.kid)
        if alg == "RS256":
            _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", self.path)
            mod = _openssl("rsa", "-in", self.path, "-noout", "-modulus").decode().strip()
            self.jwk = {"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256",
                        "n": b64url(bytes.fromhex(mod.split("=", 1)[1])), "e": "AQAB"}
        elif alg == "ES256":
            _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", self.path)
            point = _openssl("ec", "-in", self.path, "-pubout", "-outform", "DER")[-65:]
            self.jwk = {"use": "sig", "kty": "EC", "kid": self.kid, "crv": "P-256",
                        "alg": "ES256", "x": b64url(point[1:33]), "y": b64url(point[33:])}
        else:
            raise ValueError(alg)

    def sign(self, signing_input):
        sig = _openssl("dgst", "-sha256", "-sign", self.path, data=signing_input.encode())
        return _der_to_raw(sig) if self.alg == "ES256" else sig


class Issuer:
    """Published keys (the JWK set) and the keys new tokens are signed with."""

    def __init__(self, directory, issuer=ISSUER):
        self.dir = directory
        self.issuer = issuer
        self.lock = threading.Lock()
        self.keys = {"RS256": Key(directory, "RS256"), "ES256": Key(directory, "ES256")}
        self.published = list(self.keys.values())

    def jwks(self):
        with self.lock:
            return {"keys": [k.jwk for k in self.published]}

    def rotate(self, alg="RS256", keep_old=False):
        """A new signing key for alg with a new kid, published; the old one
        is unpublished unless keep_old. Returns the new kid."""
        new = Key(self.dir, alg)
        with self.lock:
            old = self.keys[alg]
            self.keys[alg] = new
            self.published = [k for k in self.published if keep_old or k is not old] + [new]
        return new.kid

    def unpublished_key(self, alg="RS256"):
        """A key of the right kind the issuer never published."""
        return Key(self.dir, alg)

    def token(self, claims, alg="RS256", key=None, header=None):
        """A compact JWS of claims signed with key (default: the issuer's
        current key for alg); header overrides the protected header."""
        with self.lock:
            k = key or self.keys[alg]
        hdr = header if header is not None else {"alg": alg, "kid": k.kid}
        si = (b64url(json.dumps(hdr, separators=(",", ":")).encode()) + "." +
              b64url(json.dumps(claims, separators=(",", ":")).encode()))
        return si + "." + b64url(k.sign(si))
