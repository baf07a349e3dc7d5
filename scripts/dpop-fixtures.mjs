// Writes tests/data/dpop-jose.json: DPoP proofs made by an independent
// implementation (panva's `jose` for node), for tests/dpop.rs to verify.
// Run once: `npm install jose@5 && node scripts/dpop-fixtures.mjs`.
// Fixed times: the test runs the layer on a fixed clock at `iat`.
import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint } from "jose";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const IAT = 1_700_000_000;
const SECRET = new TextEncoder().encode(
  "jwt-layer integration test secret, sixty-four bytes long........",
);
const HTU = "https://api.example.com/orders";

const cases = [];
for (const alg of ["ES256", "EdDSA", "RS256", "PS256", "ES384"]) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const jkt = await calculateJwkThumbprint(jwk, "sha256");
  const token = await new SignJWT({ sub: "alice", cnf: { jkt } })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("https://auth.example")
    .setAudience("my-api")
    .setIssuedAt(IAT)
    .setExpirationTime(IAT + 300)
    .sign(SECRET);
  const ath = createHash("sha256").update(token).digest("base64url");
  const proof = await new SignJWT({ htm: "GET", htu: HTU, ath, jti: `jose-${alg}` })
    .setProtectedHeader({ typ: "dpop+jwt", alg, jwk })
    .setIssuedAt(IAT)
    .sign(privateKey);
  cases.push({ alg, jkt, token, proof });
}
writeFileSync(
  new URL("../tests/data/dpop-jose.json", import.meta.url),
  JSON.stringify({ iat: IAT, htu: HTU, generator: "jose@5 (node)", cases }, null, 2) + "\n",
);
