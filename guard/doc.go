// Package guard is Switchboard's attack protection: it decides, before the
// expensive work, whether a request from a source is let through, and keeps
// the records (bans, rates, call counts) that decision needs.
//
//	request ─► Guard.Admit(src, User-Agent)
//	             │ trusted source (trunk, security.trusted)? ──► pass
//	             │ scanner User-Agent? ───────────────────────► drop (event=scanner)
//	             │ RateLimiter: token bucket of src empty? ────► drop/503 (event=rate_limit)
//	             ▼
//	         handler ─► auth.Check ─► Bans.Blocked(src, user)? ─► challenge as a wrong password
//	                        └─ unknown user / wrong password ─► Bans.Failed
//	                              N failures of src in window ─► ban src (event=ban),
//	                              ban time = ban · 2^(bans before), capped at ban_max
//	                              user_failures of a user ─► ban the user the same way
//	         INVITE of a user ─► Fraud.Admit(user, dialled)
//	                              destination class not in users[].allow ─► 403
//	                              max_calls / calls_per_hour reached ─► 403
//	                              └─ admitted: the slot is released when the call ends
//
// Every decision that refuses something writes one line through Events, in
// the format fail2ban's shipped filter (configs/fail2ban) reads:
//
//	2026-12-03T07:01:08.123Z switchboard security event=auth_failure src=192.0.2.7 user=300 reason=bad-password
//
// Values are escaped so that a line stays one line whatever a caller sends.
//
// All state is bounded: Bans and RateLimiter forget idle entries and stop
// tracking new ones beyond a maximum (counted by Bans.Untracked and
// RateLimiter.Overflow). Time is injected (the now argument of each
// constructor) so tests drive windows and bans with a fake clock.
//
// Locks: Bans has one mutex, RateLimiter one per shard, Fraud one; all are
// leaves (Events' writer lock is taken only after they are released).
package guard
