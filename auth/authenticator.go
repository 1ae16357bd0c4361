package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Kind selects the header family of a challenge.
type Kind int

const (
	// WWW is user-agent authentication (RFC 3261 §22.2): 401 Unauthorized with
	// WWW-Authenticate, answered with Authorization. Registrars and UASs use it.
	WWW Kind = iota
	// Proxy is proxy authentication (RFC 3261 §22.3): 407 Proxy Authentication
	// Required with Proxy-Authenticate, answered with Proxy-Authorization. A
	// B2BUA challenging an INVITE conventionally uses it.
	Proxy
)

func (k Kind) status() (int, string) {
	if k == Proxy {
		return 407, "Proxy Authentication Required"
	}
	return 401, "Unauthorized"
}

func (k Kind) challengeHeader() string {
	if k == Proxy {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

func (k Kind) credentialsHeader() string {
	if k == Proxy {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// Reason says why a request was or was not authenticated; it is meant for
// logs and metrics, never for the peer (all failures look the same on the
// wire).
type Reason int

// Reasons returned in Result.
const (
	// OK: the digest was correct, the nonce fresh and nc higher than before.
	OK Reason = iota
	// NoCredentials: no Digest credentials for our realm.
	NoCredentials
	// Malformed: credentials present but unusable: syntax, unsupported
	// algorithm or qop, missing cnonce/nc, userhash, or a uri that does not
	// match the Request-URI.
	Malformed
	// BadNonce: a nonce this process did not issue (or issued before a restart).
	BadNonce
	// UnknownUser: no such user (the challenge is the same as for BadPassword).
	UnknownUser
	// BadPassword: the digest did not match.
	BadPassword
	// Stale: the digest was correct but the nonce had expired.
	Stale
	// Replay: the digest was correct but nc did not increase for the nonce.
	Replay
	// Blocked: the source or the user is banned (Limiter); the caller gets
	// the challenge of a wrong password, whatever its credentials.
	Blocked
)

var reasonNames = [...]string{"ok", "no-credentials", "malformed", "bad-nonce", "unknown-user", "bad-password", "stale", "replay", "blocked"}

// Limiter limits failed digest attempts (package guard implements it).
type Limiter interface {
	// Blocked reports whether src or user is banned.
	Blocked(src netip.Addr, user string) bool
	// Failed records a wrong password (known) or an unknown user.
	Failed(src netip.Addr, user string, known bool)
}

// String returns a short lower-case name for logs ("bad-password").
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Result is the outcome of Check.
type Result struct {
	// User is the authenticated user when Reason is OK, else the username
	// the request claimed (for logs; it may be absent or false).
	User string
	// Reason says what happened.
	Reason Reason
	// Challenge is the 401/407 response to send when Reason is not OK.
	Challenge *sip.Response
}

// Lookup returns a user's password; ok is false for an unknown user.
type Lookup func(user string) (password string, ok bool)

// Authenticator is a stateless-nonce Digest server (RFC 3261 §22, RFC 7616,
// RFC 8760) for one realm. It is safe for concurrent use.
type Authenticator struct {
	realm    string
	lifetime time.Duration
	now      func() time.Time
	lookup   atomic.Pointer[Lookup]

	key    [32]byte // HMAC key for nonces, random per process
	opaque string   // random per process; echoed by clients
	dummy  string   // password digested for unknown users (constant work)

	nc *ncTable

	// algorithms are the challenges offered, most preferred first.
	algorithms atomic.Pointer[[]string]

	limiter atomic.Pointer[Limiter]
}

// SetLimiter installs the failed-attempt limiter (nil: none). Requests
// whose digest is tried (right or wrong) from a banned source, or for a
// banned user, get Blocked and the same challenge as a wrong password.
func (a *Authenticator) SetLimiter(l Limiter) {
	if l == nil {
		a.limiter.Store(nil)
		return
	}
	a.limiter.Store(&l)
}

// New returns an Authenticator for realm. lookup resolves passwords (it may
// be swapped later with SetLookup); nonces expire after nonceLifetime (then
// a correct digest gets a stale=true challenge); now is the clock (nil means
// time.Now).
func New(realm string, lookup func(user string) (password string, ok bool), nonceLifetime time.Duration, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	if nonceLifetime <= 0 {
		nonceLifetime = 5 * time.Minute
	}
	a := &Authenticator{realm: realm, lifetime: nonceLifetime, now: now, nc: newNCTable(maxTrackedNonces)}
	rand.Read(a.key[:])
	var b [16]byte
	rand.Read(b[:])
	a.opaque = hex.EncodeToString(b[:])
	a.dummy = rand.Text()
	a.SetLookup(lookup)
	a.algorithms.Store(&[]string{"SHA-256", "MD5"})
	return a
}

// SetAlgorithms sets the digest algorithms challenged, most preferred first
// (RFC 8760 §2.4). Clients that take the topmost challenge and know only MD5
// (libre/baresip 1.0, sipp 3.6) need MD5 listed first. Credentials for any
// supported algorithm are accepted whatever the order.
func (a *Authenticator) SetAlgorithms(algs []string) error {
	if len(algs) == 0 {
		return fmt.Errorf("auth: no digest algorithm")
	}
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		switch strings.ToUpper(alg) {
		case "SHA-256", "MD5":
			out = append(out, strings.ToUpper(alg))
		default:
			return fmt.Errorf("auth: unsupported digest algorithm %q", alg)
		}
	}
	a.algorithms.Store(&out)
	return nil
}

// SetLookup atomically replaces the password lookup (for a SIGHUP reload).
// Nonces already issued stay valid.
func (a *Authenticator) SetLookup(lookup func(user string) (password string, ok bool)) {
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	l := Lookup(lookup)
	a.lookup.Store(&l)
}

// Realm returns the digest realm.
func (a *Authenticator) Realm() string { return a.realm }

// Authenticate checks req's Digest credentials of the given kind. On success
// it returns the user name and a nil challenge. Otherwise it returns the
// 401/407 challenge the caller must send (and then stop processing req).
func (a *Authenticator) Authenticate(req *sip.Request, kind Kind) (user string, challenge *sip.Response) {
	r := a.Check(req, kind)
	if r.Reason != OK {
		return "", r.Challenge
	}
	return r.User, nil
}

// Check is Authenticate with the reason, for logging failed attempts.
func (a *Authenticator) Check(req *sip.Request, kind Kind) Result {
	now := a.now()
	var (
		cred  credentials
		found bool
		bad   bool
	)
	for _, h := range req.GetHeaders(kind.credentialsHeader()) {
		c, err := parseCredentials(h.Value())
		if err != nil {
			bad = bad || err != errNotDigest
			continue
		}
		// RFC 3261 §22.3: credentials for other realms belong to other proxies.
		if c.realm == a.realm {
			cred, found = c, true
			break
		}
	}
	if !found {
		reason := NoCredentials
		if bad {
			reason = Malformed
		}
		return a.fail(req, kind, now, reason, "", false)
	}
	reason := a.verify(req, &cred, now)
	if lp := a.limiter.Load(); lp != nil {
		reason = a.limit(*lp, req, cred.username, reason)
	}
	switch reason {
	case OK:
		return Result{User: cred.username, Reason: OK}
	case Stale, Replay:
		return a.fail(req, kind, now, reason, cred.username, true)
	default:
		return a.fail(req, kind, now, reason, cred.username, false)
	}
}

// verify checks one set of credentials (RFC 7616 §3.4.1 and §3.5).
func (a *Authenticator) verify(req *sip.Request, c *credentials, now time.Time) Reason {
	var newHash func() hash.Hash
	switch strings.ToUpper(c.algorithm) {
	case "", "MD5": // RFC 7616 §3.4: absent means MD5
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	default:
		return Malformed
	}
	// We offer only qop="auth"; RFC 2069 (no qop) has no replay protection.
	if c.qop != "auth" || c.cnonce == "" || !c.hasNC || c.nc == 0 || c.userhash || c.username == "" {
		return Malformed
	}
	if c.opaque != "" && c.opaque != a.opaque {
		return BadNonce
	}
	issued, ok := a.checkNonce(c.nonce)
	if !ok {
		return BadNonce
	}
	if !uriMatches(c.uri, &req.Recipient) {
		return Malformed
	}
	lookup := *a.lookup.Load()
	password, known := lookup(c.username)
	if !known {
		// Same work as for a known user, so timing does not reveal which
		// user names exist.
		password = a.dummy
	}
	want := digestResponse(newHash, c.username, a.realm, password, string(req.Method), c.uri,
		c.nonce, c.nc, c.cnonce, c.qop)
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.response))) == 1
	switch {
	case !known:
		return UnknownUser
	case !match:
		return BadPassword
	}
	// Issued in the future (beyond a little skew) means a clock jump: treat as expired.
	age := now.UnixNano() - issued
	if age > int64(a.lifetime) || age < -int64(time.Minute) {
		return Stale
	}
	if !a.nc.check(c.nonce, issued, c.nc, now.UnixNano()-int64(a.lifetime)) {
		return Replay
	}
	return OK
}

// limit applies the Limiter to a verified attempt: failures are counted
// and any attempt of a banned source or user becomes Blocked. The digest
// was computed in full before, so a ban costs the same time as a wrong
// password (and the challenge is the same).
func (a *Authenticator) limit(l Limiter, req *sip.Request, user string, reason Reason) Reason {
	var src netip.Addr
	if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
		src = ap.Addr().Unmap()
	}
	switch reason {
	case BadPassword, UnknownUser:
		if l.Blocked(src, user) {
			return Blocked
		}
		l.Failed(src, user, reason == BadPassword)
		return reason
	case OK, Stale, Replay:
		if l.Blocked(src, user) {
			return Blocked
		}
	}
	return reason
}

// uriMatches compares the digest-uri with the Request-URI loosely, as SIP
// servers do (RFC 3261 §22.4 asks for the same URI but proxies, NATs and
// phones disagree on ports and parameters): user and host must match, port,
// scheme sip/sips and parameters are ignored.
func uriMatches(digestURI string, ruri *sip.Uri) bool {
	var u sip.Uri
	if err := sip.ParseUri(digestURI, &u); err != nil {
		// sipp 3.6 writes IPv6 digest-uris without brackets ("sip:::1:5060");
		// accept a bare host[:port] naming the Request-URI's host.
		bare, ok := strings.CutPrefix(digestURI, "sip:")
		if !ok || strings.Contains(bare, "@") {
			return digestURI == ruri.String()
		}
		host := strings.Trim(ruri.Host, "[]")
		return strings.EqualFold(bare, host) || strings.EqualFold(bare, host+":"+strconv.Itoa(ruri.Port))
	}
	// Some clients (sipp 3.6 among them) leave the user part out of the
	// digest-uri; the host must still be ours as the Request-URI names it.
	return (u.User == ruri.User || u.User == "") && strings.EqualFold(strings.Trim(u.Host, "[]"), strings.Trim(ruri.Host, "[]"))
}

// digestResponse computes the qop=auth request-digest (RFC 7616 §3.4.1):
// H(H(user:realm:password):nonce:nc:cnonce:qop:H(method:uri)).
func digestResponse(newHash func() hash.Hash, user, realm, password, method, uri, nonce string, nc uint32, cnonce, qop string) string {
	h := newHash()
	ha1 := hashHex(h, user, ":", realm, ":", password)
	ha2 := hashHex(h, method, ":", uri)
	var ncHex [8]byte
	hex.Encode(ncHex[:], []byte{byte(nc >> 24), byte(nc >> 16), byte(nc >> 8), byte(nc)})
	return hashHex(h, ha1, ":", nonce, ":", string(ncHex[:]), ":", cnonce, ":", qop, ":", ha2)
}

func hashHex(h hash.Hash, parts ...string) string {
	h.Reset()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fail builds the challenge for a failed attempt.
func (a *Authenticator) fail(req *sip.Request, kind Kind, now time.Time, reason Reason, user string, stale bool) Result {
	return Result{User: user, Reason: reason, Challenge: a.challenge(req, kind, now, stale)}
}

// challenge builds a 401/407 offering SHA-256 first, then MD5 (RFC 8760 §2.4:
// the server lists challenges in order of preference), both with qop="auth"
// and the same nonce. Every failure yields the same headers, so an unknown
// user cannot be told from a wrong password.
func (a *Authenticator) challenge(req *sip.Request, kind Kind, now time.Time, stale bool) *sip.Response {
	code, reason := kind.status()
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	nonce := a.newNonce(now)
	staleParam := ""
	if stale {
		staleParam = ", stale=true"
	}
	for _, alg := range *a.algorithms.Load() {
		res.AppendHeader(sip.NewHeader(kind.challengeHeader(),
			`Digest realm="`+quoteEscape(a.realm)+`", nonce="`+nonce+`", opaque="`+a.opaque+`"`+staleParam+
				`, algorithm=`+alg+`, qop="auth"`))
	}
	return res
}

// quoteEscape escapes '"' and '\' for a quoted-string (RFC 3261 §25.1).
func quoteEscape(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
