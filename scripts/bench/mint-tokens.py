"""Prints COUNT distinct Gatehouse access tokens, one per line, signed with a PEM
private key: the pool for bench-keys.sh's all-distinct scenario (tokens the server has
never seen, so none is answered from its verified-token cache). Each has its own user
and session; all are valid for fifteen minutes.

    python3 mint-tokens.py KEY.pem ALG KID COUNT
"""
import base64, json, sys, time, uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def main():
    path, alg, kid, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}, separators=(",", ":")).encode())
    now = int(time.time())
    out = sys.stdout
    for _ in range(count):
        claims = {"exp": now + 900, "iat": now, "iss": "gatehouse", "role": "user",
                  "sid": str(uuid.uuid4()), "sub": str(uuid.uuid4()), "version": 0}
        signed = header + b"." + b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        if alg == "EdDSA":
            signature = key.sign(signed)
        elif alg == "ES256":
            r, s = decode_dss_signature(key.sign(signed, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + min(s, N - s).to_bytes(32, "big")
        else:
            signature = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        out.write((signed + b"." + b64(signature)).decode() + "\n")


main()
