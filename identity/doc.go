// Package identity is caller identity for calls between Switchboard and
// trunks: STIR/SHAKEN signing and verification (RFC 8224 Authenticated
// Identity in SIP, RFC 8225 PASSporT, RFC 8226 certificates with the
// TNAuthList extension, RFC 8588 the "shaken" PASSporT extension) and the
// E.164 normalisation of caller and callee numbers it depends on.
//
//	signing (B leg toward a trunk with identity: configured)
//	  From number ─► Numbering.E164 ─┐
//	  dialled number ─► E164 ────────┼─► Claims{attest, dest, iat, orig, origid}
//	  attestation policy (A/B/C) ────┘        │ ES256 (golang-jwt), x5u header
//	                                          ▼
//	                 Identity: <jwt>;info=<x5u>;alg=ES256;ppt=shaken   (Signer.Sign)
//
//	verification (INVITE from a trunk, when identity.trust_anchors is set)
//	  Identity header ─► Parse (info, alg, ppt) ─► x5u host allowed? ──no──► 436
//	        │                                      │ yes
//	        │                                      ▼
//	        │                         Fetcher: HTTPS GET (timeout, size cap,
//	        │                         cache by URL) ─────────────fail──────► 436
//	        │                                      ▼
//	        │                  chain to trust anchors, TNAuthList ──fail──► 437
//	        ▼                                      ▼
//	  ES256 signature over header.payload ─────────────────────────fail──► 438
//	  iat within max_age (RFC 8224 §6.2.1) ────────────────────────fail──► 403 Stale Date
//	  orig = From/P-Asserted-Identity, dest ∋ Request-URI ─────────fail──► 438
//	        ▼
//	  Result{Verstat: TN-Validation-Passed | -Failed | No-TN-Validation, Status}
//
// The verstat value (3GPP TS 24.229 §7.2A.20, as used with RFC 8588) goes
// on the user part of the From URI toward the called user; Status is the
// RFC 8224 §6.2.2 response a reject policy sends instead of ringing.
//
// Library choice: JWS encoding and the ES256 signature come from
// github.com/golang-jwt/jwt/v5 (maintained, on the module proxy, no cgo),
// keys and certificate chains from the standard library's crypto/ecdsa and
// crypto/x509. asipto/secsipidx is the other candidate, but it is not on
// the module proxy this project builds from, and it bundles its own HTTP
// fetching and cache policy that would sit beside ours; what is left to
// write by hand here (header parameters, claim checks, the fetch policy)
// is the part that is Switchboard policy rather than cryptography. The
// secsipidx command-line tool (Debian package) is the independent
// implementation the tests check against (test/identity_e2e_test.go).
//
// Concurrency: Signer and Verifier are safe for concurrent use. The
// Fetcher's cache has one mutex, held only to read or write the map, never
// across a fetch.
package identity
