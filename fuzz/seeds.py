#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/.

The corpus is not committed (see .gitignore); run this before the first
`cargo fuzz run`. Needs only the Python standard library.
"""
import base64, hashlib, hmac, json, os, pathlib

ROOT = pathlib.Path(__file__).resolve().parent
DATA = ROOT.parent / "tests" / "data"
SECRET = b"jwt-layer fuzz secret, sixty-four bytes long...................."
OTHER = b"not the fuzz secret, but also sixty-four bytes long............."
OCT_SECRET = b"an oct key a hostile key server publishes, 64 bytes long........"
NOW = 1_700_000_000


def b64(b):
    if isinstance(b, str):
        b = b.encode()
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hs(header, payload, secret, digest=hashlib.sha256):
    si = f"{b64(header)}.{b64(payload)}"
    return f"{si}.{b64(hmac.new(secret, si.encode(), digest).digest())}"


def write(target, name, data):
    d = ROOT / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


claims = {"sub": "alice", "iss": "https://auth.example", "aud": "my-api",
          "iat": NOW, "exp": NOW + 300}
payload = json.dumps(claims, separators=(",", ":"))
headers = [
    '{"alg":"HS256","typ":"JWT"}', '{"alg":"HS256","kid":"hs"}', '{"alg":"RS256","kid":"rs"}',
    '{"alg":"PS256","kid":"rs"}', '{"alg":"ES256","kid":"es"}', '{"alg":"ES384","kid":"es384"}',
    '{"alg":"EdDSA","kid":"ed"}', '{"alg":"none"}', '{"alg":"HS256","crit":["exp"]}',
    '{"alg":"HS256","jku":"http://127.0.0.1:1/jwks.json"}', '{"alg":"HS512","kid":"hs"}',
]

# token: never-valid tokens (wrong key, or expired, or garbage signature).
vectors = json.load(open(DATA / "vectors.json"))
for i, v in enumerate(vectors):
    if v.get("token"):
        write("token", f"vector-{i}", v["token"])
for i, h in enumerate(headers):
    write("token", f"wrong-key-{i}", hs(h, payload, OTHER))
    write("token", f"garbage-sig-{i}", f"{b64(h)}.{b64(payload)}.{b64(bytes(64))}")
expired = dict(claims, exp=NOW - 3600)
write("token", "expired", hs(headers[1], json.dumps(expired), SECRET))
write("token", "jwe", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d")
write("token", "dots", "a.b.c.d.e.f.g.h")
write("token", "bearer-in-bearer", "Bearer " + hs(headers[0], payload, OTHER))

# signed_token: alg byte, header, 0xFF, payload (signed by the harness).
for i, h in enumerate(headers):
    for j, p in enumerate([payload, json.dumps(dict(claims, aud=["x", "my-api"])),
                           json.dumps(dict(claims, nbf=NOW + 30, scope="read write"))]):
        write("signed_token", f"seed-{i}-{j}", bytes([i % 3]) + h.encode() + b"\xff" + p.encode())

# jwks / remote_jwks: key sets.
jwks = []
rsa = json.load(open(DATA / "rsa-public.jwk.json"))
jwks.append({"keys": [rsa]})
for v in vectors:
    if v.get("jwk"):
        pub = {k: val for k, val in v["jwk"].items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
        jwks.append({"keys": [pub]})
        jwks.append({"keys": [dict(pub, kid="k1", use="sig"), dict(pub, kid="k2", use="enc")]})
jwks.append({"keys": [{"kty": "oct", "kid": "oct", "k": b64(OCT_SECRET)}]})
jwks.append({"keys": [{"kty": "oct", "kid": "oct", "k": b64(OCT_SECRET), "alg": "HS256"}, rsa]})
jwks.append({"keys": [dict(rsa, kid="dup"), dict(rsa, kid="dup")]})
jwks.append({"keys": []})
for i, doc in enumerate(jwks):
    text = json.dumps(doc)
    write("jwks", f"set-{i}", text)
    write("remote_jwks", f"set-{i}", text)
for i, v in enumerate(vectors):
    if v.get("jwk"):
        write("jwks", f"jwk-{i}", json.dumps(v["jwk"]))
print("seeds written to", ROOT / "corpus")

# certificates: DER and PEM certificates; remote_jwks: certificate maps.
certs = {name: (DATA / f"{name}-cert.pem").read_text()
         for name in ["rsa2048", "ec256", "rsa1024", "p521"]}
for name, pem in certs.items():
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    write("certificates", f"{name}.der", der)
    write("certificates", f"{name}.pem", pem)
    write("certificates", f"{name}-truncated.der", der[: len(der) // 2])
write("remote_jwks", "certificate-map", json.dumps(certs))
write("remote_jwks", "certificate-map-one", json.dumps({"k": certs["ec256"]}))
