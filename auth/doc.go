// Package auth is Switchboard's SIP Digest server: it challenges requests
// and checks their credentials (RFC 3261 §22, RFC 7616, RFC 8760).
//
//	request ──► Authorization / Proxy-Authorization for our realm?
//	              │ no                         │ yes
//	              ▼                            ▼
//	         401/407 challenge      parse ─► algorithm/qop ok? ─► nonce MAC ok?
//	         (SHA-256, then MD5,       ─► uri matches R-URI? ─► H(...) == response?
//	          qop="auth", opaque)      ─► nonce fresh? (else stale=true)
//	              ▲                    ─► nc > last nc for nonce? (else stale=true)
//	              └────── any "no" ─────────┘            │ all yes
//	                                                     ▼
//	                                              user authenticated
//
// Nonces are stateless (issue time + random + HMAC with a per-process key);
// the only state is the table of the highest nonce-count seen per nonce,
// bounded and expired with the nonces. Unknown users are digested against a
// dummy password so that they cost the same and get the same challenge as a
// wrong password. The password lookup can be swapped atomically (SetLookup)
// on reload.
//
// Locks: Authenticator has one mutex, inside the nonce-count table; it is a
// leaf (nothing else is locked while it is held).
package auth
