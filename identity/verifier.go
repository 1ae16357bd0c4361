package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verification results toward the called user (3GPP TS 24.229 §7.2A.20,
// the verstat parameter, as RFC 8588 deployments use it).
const (
	VerstatPassed = "TN-Validation-Passed"
	VerstatFailed = "TN-Validation-Failed"
	VerstatNone   = "No-TN-Validation"
)

// DefaultMaxAge is how far iat may be from now (RFC 8224 §6.2.1
// recommends 60 s).
const DefaultMaxAge = 60 * time.Second

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Anchors are the trust anchors (STI-CA roots) certificates must
	// chain to.
	Anchors *x509.CertPool
	// Fetcher gets certificates by x5u.
	Fetcher *Fetcher
	// MaxAge bounds |now - iat| (default DefaultMaxAge).
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verifier is a verification service (RFC 8224 §6.2).
type Verifier struct {
	anchors *x509.CertPool
	fetch   *Fetcher
	maxAge  time.Duration
	now     func() time.Time
	parser  *jwt.Parser

	// chained remembers leaf certificates (as the Fetcher's cache holds
	// them) whose chain was verified, until the chain's earliest expiry:
	// a warm call costs one signature check, not three.
	mu      sync.Mutex
	chained map[*x509.Certificate]time.Time
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	v := &Verifier{anchors: cfg.Anchors, fetch: cfg.Fetcher, maxAge: cfg.MaxAge, now: cfg.Now, chained: map[*x509.Certificate]time.Time{}}
	if v.maxAge <= 0 {
		v.maxAge = DefaultMaxAge
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.parser = jwt.NewParser(jwt.WithValidMethods([]string{Alg}), jwt.WithoutClaimsValidation())
	return v
}

// Request is what of a SIP INVITE verification looks at.
type Request struct {
	// Identity are the request's Identity header field values.
	Identity []string
	// Orig are the caller's numbers as tn (From, P-Asserted-Identity):
	// the PASSporT's orig must be one of them.
	Orig []string
	// Dest is the called number as tn (Request-URI, To): the PASSporT's
	// dest must contain it.
	Dest []string
	// Date is the request's Date header (for a compact PASSporT's iat).
	Date time.Time
}

// Result is the outcome of verification.
type Result struct {
	// Verstat is VerstatPassed, VerstatFailed or VerstatNone.
	Verstat string
	// Status is the RFC 8224 §6.2.2 response code of the failure (428
	// for none, 436, 437, 438, 403 for a stale iat), 0 when passed.
	Status int
	// Reason is the response's reason phrase (RFC 8224 §13.2), or the
	// cause in words for logs and records.
	Reason string
	// Err is the detail of a failure.
	Err error
	// Attest and OrigID are the verified PASSporT's claims.
	Attest, OrigID string
}

// Statuses and reason phrases of RFC 8224 §6.2.2 and §13.2.
const (
	StatusUseIdentity    = 428
	StatusBadInfo        = 436
	StatusUnsupportedCrt = 437
	StatusInvalid        = 438
	StatusStaleDate      = 403
)

func failed(status int, reason string, err error) Result {
	return Result{Verstat: VerstatFailed, Status: status, Reason: reason, Err: err}
}

// Verify checks the request's Identity headers; the first that passes
// wins, otherwise the first failure is the result. No Identity header
// gives VerstatNone with status 428.
func (v *Verifier) Verify(ctx context.Context, r Request) Result {
	if len(r.Identity) == 0 {
		return Result{Verstat: VerstatNone, Status: StatusUseIdentity, Reason: "Use Identity Header"}
	}
	var first Result
	for i, hv := range r.Identity {
		res := v.verifyOne(ctx, hv, r)
		if res.Verstat == VerstatPassed {
			return res
		}
		if i == 0 {
			first = res
		}
	}
	return first
}

func (v *Verifier) verifyOne(ctx context.Context, hv string, r Request) Result {
	h, err := ParseHeader(hv)
	if err != nil {
		return failed(StatusInvalid, "Invalid Identity Header", err)
	}
	if h.Alg != "" && h.Alg != Alg {
		return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("alg %q, want %s", h.Alg, Alg))
	}
	// The signed parts: as carried, or rebuilt for a compact form.
	signing, sig := "", ""
	var claims Claims
	if h.Compact() {
		if len(r.Orig) == 0 || len(r.Dest) == 0 || r.Date.IsZero() {
			return failed(StatusInvalid, "Invalid Identity Header", errors.New("compact PASSporT without From, To or Date to rebuild it"))
		}
		hdr, _, _ := strings.Cut(h.Token, ".")
		if signing, err = compactParts(h.Info, r.Orig[0], r.Dest[0], r.Date); err != nil {
			return failed(StatusInvalid, "Invalid Identity Header", err)
		}
		if want, _, _ := strings.Cut(signing, "."); want != hdr {
			return failed(StatusInvalid, "Invalid Identity Header", errors.New("compact header is not {alg, typ, x5u=info}"))
		}
		sig = h.Token[strings.LastIndexByte(h.Token, '.')+1:]
		claims = Claims{Dest: DestTN{TN: []string{r.Dest[0]}}, IAT: r.Date.Unix(), Orig: TN{TN: r.Orig[0]}}
	} else {
		tok, _, err := v.parser.ParseUnverified(h.Token, &claims)
		if err != nil {
			return failed(StatusInvalid, "Invalid Identity Header", err)
		}
		if alg, _ := tok.Header["alg"].(string); alg != Alg {
			return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("JWS alg %q, want %s", alg, Alg))
		}
		if x5u, _ := tok.Header["x5u"].(string); x5u != h.Info {
			return failed(StatusBadInfo, "Bad Identity Info", fmt.Errorf("x5u %q is not info %q", x5u, h.Info))
		}
		if ppt, _ := tok.Header["ppt"].(string); ppt != h.PPT {
			return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("ppt %q is not the header's %q", ppt, h.PPT))
		}
		i := strings.LastIndexByte(h.Token, '.')
		signing, sig = h.Token[:i], h.Token[i+1:]
	}

	// The certificate: fetched from an allowed host, chained to an anchor.
	certs, err := v.fetch.Get(ctx, h.Info)
	if err != nil {
		return failed(StatusBadInfo, "Bad Identity Info", err)
	}
	now := v.now()
	if err := v.chain(certs, now); err != nil {
		return failed(StatusUnsupportedCrt, "Unsupported Credential", err)
	}
	if !HasTNAuthList(certs[0]) {
		return failed(StatusUnsupportedCrt, "Unsupported Credential", errors.New("certificate has no TNAuthList (RFC 8226 §9)"))
	}
	pub, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return failed(StatusUnsupportedCrt, "Unsupported Credential", errors.New("certificate key is not ECDSA"))
	}

	// The signature, then the claims it covers.
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return failed(StatusInvalid, "Invalid Identity Header", err)
	}
	if err := jwt.SigningMethodES256.Verify(signing, raw, pub); err != nil {
		return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("signature: %w", err))
	}
	iat := time.Unix(claims.IAT, 0)
	if d := now.Sub(iat); d > v.maxAge || d < -v.maxAge {
		return failed(StatusStaleDate, "Stale Date", fmt.Errorf("iat %s is %s from now (max %s)", iat.UTC().Format(time.RFC3339), d.Round(time.Second), v.maxAge))
	}
	if !slices.Contains(r.Orig, claims.Orig.TN) {
		return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("orig %q is not the caller %v", claims.Orig.TN, r.Orig))
	}
	if !slices.ContainsFunc(r.Dest, func(d string) bool { return slices.Contains(claims.Dest.TN, d) }) {
		return failed(StatusInvalid, "Invalid Identity Header", fmt.Errorf("dest %v is not the called %v", claims.Dest.TN, r.Dest))
	}
	return Result{Verstat: VerstatPassed, Attest: claims.Attest, OrigID: claims.OrigID}
}

// chain verifies that certs[0] chains to a trust anchor through
// certs[1:], remembering a success until the chain's first expiry.
func (v *Verifier) chain(certs []*x509.Certificate, now time.Time) error {
	leaf := certs[0]
	v.mu.Lock()
	until, ok := v.chained[leaf]
	v.mu.Unlock()
	if ok && now.Before(until) && !now.Before(leaf.NotBefore) {
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: v.anchors, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return err
	}
	until = leaf.NotAfter
	for _, c := range chains[0] {
		if c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}
	v.mu.Lock()
	if len(v.chained) >= maxCacheEntries {
		clear(v.chained)
	}
	v.chained[leaf] = until
	v.mu.Unlock()
	return nil
}

// Decode returns the claims of a full PASSporT without verifying it (for
// logs and tools).
func Decode(token string) (Claims, map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, nil, errHeader
	}
	var c Claims
	var hdr map[string]any
	for i, dst := range []any{&hdr, &c} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return Claims{}, nil, err
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return Claims{}, nil, err
		}
	}
	return c, hdr, nil
}
