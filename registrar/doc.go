// Package registrar is Switchboard's SIP registrar (RFC 3261 §10.3): it
// authenticates REGISTER requests, keeps each user's contact bindings with
// the address and transport they came from, persists them across restarts
// and answers lookups for routing.
//
//	REGISTER ─► Require? (420) ─► auth.Authenticate (401) ─► To user == auth user? (403)
//	   ─► no Contact: fetch ─────────────────────────────────────────┐
//	   ─► Contact: * + Expires: 0 ─► remove all ────────────────────┤
//	   ─► per contact: expires (423 / clamp), Call-ID+CSeq order (500)│
//	        ─► all ok? commit ─► wake persister                      ▼
//	                                        200 + every binding + Date
//
//	persister goroutine: dirty signal / sweep tick ─► snapshot ─► bindings.json
//	                     (temp file + fsync + rename)
//	Lookup(user) ─► unexpired bindings, highest q first
//
// A binding remembers Source (ip:port) and Transport of the REGISTER so a
// call reaches a phone behind NAT at the address, and over the connection,
// it registered from. Expired bindings are never returned; the sweeper
// removes them from memory and the file every SweepInterval.
//
// With a Shared store (store_shared.go, registrar.store: postgres) every
// committed REGISTER is also written through to it, and Lookup asks it for
// a user it holds no binding of, so instances behind one front door see
// each other's registrations.
//
// SIP Outbound (RFC 5626, outbound.go): a contact with +sip.instance and
// reg-id from a UA with Supported: outbound is a flow, named by (instance,
// reg-id); Reachable keeps one live flow per instance for a request. GRUU
// (RFC 5627, gruu.go): pub-gruu and temp-gruu in the 200's Contact;
// ForGRUU finds the instance a gr parameter names.
//
// Locks: Registrar.mu guards bindings and the version counters. It is never
// held while authenticating, writing files or sending responses; the
// Authenticator's own lock is never taken under it. Shared.Put is called
// under it and only queues.
package registrar
