package identity

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity/stitest"
)

// fixture is a test PKI whose chain is served over HTTPS on loopback.
type fixture struct {
	pki    *stitest.PKI
	srv    *httptest.Server
	x5u    string
	fetch  *Fetcher
	hits   int
	signer *Signer
}

func newFixture(t testing.TB, o stitest.Options) *fixture {
	t.Helper()
	f := &fixture{pki: stitest.New(o)}
	mux := http.NewServeMux()
	mux.HandleFunc("/sti.pem", func(w http.ResponseWriter, _ *http.Request) {
		f.hits++
		w.Write(f.pki.Chain())
	})
	mux.HandleFunc("/big.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Write(append(f.pki.Chain(), make([]byte, DefaultMaxCertSize)...))
	})
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	f.x5u = f.srv.URL + "/sti.pem"
	roots := x509.NewCertPool()
	roots.AddCert(f.srv.Certificate())
	f.fetch = NewFetcher(FetcherConfig{AllowedHosts: []string{"127.0.0.1"}, RootCAs: roots, Timeout: time.Second})
	var err error
	if f.signer, err = NewSigner(SignerConfig{Key: f.pki.LeafKey, X5U: f.x5u}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) verifier(now func() time.Time) *Verifier {
	return NewVerifier(VerifierConfig{Anchors: f.pki.RootPool(), Fetcher: f.fetch, Now: now})
}

func TestE164(t *testing.T) {
	uk := Numbering{CountryCode: "44", NationalPrefix: "0", InternationalPrefix: "00"}
	us := Numbering{CountryCode: "1", InternationalPrefix: "011"}
	for _, c := range []struct {
		n    Numbering
		in   string
		want string
	}{
		{uk, "+44 20 7946 0018", "+442079460018"},
		{uk, "020 7946 0018", "+442079460018"},
		{uk, "0033142685300", "+33142685300"},
		{us, "(215) 555-1212", "+12155551212"},
		{us, "12155551212", "+12155551212"},
		{us, "01133142685300", "+33142685300"},
		{Numbering{}, "12155551212", "+12155551212"},
		{Numbering{}, "1000", ""},
		{us, "alice", ""},
	} {
		got, _ := c.n.E164(c.in)
		if got != c.want {
			t.Errorf("%+v.E164(%q) = %q, want %q", c.n, c.in, got, c.want)
		}
	}
	if tn := us.TN("215-555-1212"); tn != "12155551212" {
		t.Errorf("TN = %q", tn)
	}
	if tn := us.TN("1000"); tn != "1000" {
		t.Errorf("TN of an extension = %q, want its digits", tn)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	v := `eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln;info=<https://cert.example/a.pem;x=1>;alg=ES256;ppt="shaken"`
	h, err := ParseHeader(v)
	if err != nil {
		t.Fatal(err)
	}
	if h.Info != "https://cert.example/a.pem;x=1" || h.Alg != "ES256" || h.PPT != "shaken" || h.Compact() {
		t.Fatalf("parsed %+v", h)
	}
	if _, err := ParseHeader("abc;alg=ES256"); err == nil {
		t.Error("no JWS and no info: want an error")
	}
	if _, err := ParseHeader("a.b.c;alg=ES256"); err == nil {
		t.Error("no info: want an error")
	}
}

func TestSignVerify(t *testing.T) {
	f := newFixture(t, stitest.Options{})
	s, err := f.signer.Sign("12155551212", "12155551213", AttestFull)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Header, ";info=<"+f.x5u+">;alg=ES256;ppt=shaken") {
		t.Fatalf("header %q is not in RFC 8224 §4.1 form", s.Header)
	}
	h, _ := ParseHeader(s.Header)
	c, hdr, err := Decode(h.Token)
	if err != nil {
		t.Fatal(err)
	}
	if hdr["ppt"] != "shaken" || hdr["typ"] != "passport" || hdr["x5u"] != f.x5u || hdr["alg"] != "ES256" {
		t.Errorf("JOSE header %v", hdr)
	}
	if c.Attest != "A" || c.Orig.TN != "12155551212" || c.Dest.TN[0] != "12155551213" || len(c.OrigID) != 36 || c.OrigID != s.OrigID {
		t.Errorf("claims %+v", c)
	}
	req := Request{Identity: []string{s.Header}, Orig: []string{"12155551212"}, Dest: []string{"12155551213"}}
	res := f.verifier(nil).Verify(context.Background(), req)
	if res.Verstat != VerstatPassed || res.Attest != "A" || res.OrigID != s.OrigID {
		t.Fatalf("result %+v", res)
	}
	// Cache warm: the second verification does not fetch.
	f.verifier(nil).Verify(context.Background(), req)
	if f.hits != 1 {
		t.Errorf("%d fetches, want 1 (cached)", f.hits)
	}
}

func TestCompactForm(t *testing.T) {
	f := newFixture(t, stitest.Options{})
	sg, err := NewSigner(SignerConfig{Key: f.pki.LeafKey, X5U: f.x5u, Form: FormCompact})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sg.Sign("12155551212", "12155551213", AttestFull)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(s.Header); !h.Compact() || h.PPT != "" {
		t.Fatalf("header %q is not compact", s.Header)
	}
	req := Request{Identity: []string{s.Header}, Orig: []string{"12155551212"}, Dest: []string{"12155551213"}, Date: s.IAT}
	if res := f.verifier(nil).Verify(context.Background(), req); res.Verstat != VerstatPassed {
		t.Fatalf("compact: %+v", res)
	}
	req.Orig = []string{"12155550000"}
	if res := f.verifier(nil).Verify(context.Background(), req); res.Status != StatusInvalid {
		t.Fatalf("compact, other caller: %+v, want 438", res)
	}
}

// TestVerifyFailures: each way a PASSporT fails gives its RFC 8224
// §6.2.2 status and TN-Validation-Failed.
func TestVerifyFailures(t *testing.T) {
	f := newFixture(t, stitest.Options{})
	good, err := f.signer.Sign("12155551212", "12155551213", AttestFull)
	if err != nil {
		t.Fatal(err)
	}
	other := stitest.New(stitest.Options{})
	wrongKey, _ := NewSigner(SignerConfig{Key: other.LeafKey, X5U: f.x5u})
	wrong, _ := wrongKey.Sign("12155551212", "12155551213", AttestFull)
	withX5U := func(x5u string) string {
		s := &Signer{key: f.pki.LeafKey, x5u: x5u, form: FormFull, now: time.Now} // NewSigner refuses http://
		v, _ := s.Sign("12155551212", "12155551213", AttestFull)
		return v.Header
	}
	tamperedPayload := func() string {
		h, _ := ParseHeader(good.Header)
		p := strings.Split(h.Token, ".")
		c, _, _ := Decode(h.Token)
		c.Orig.TN = "12155550000"
		s2, _ := wrongKey.Sign(c.Orig.TN, "12155551213", AttestFull)
		h2, _ := ParseHeader(s2.Header)
		p[1] = strings.Split(h2.Token, ".")[1] // another number, the first signature
		h.Token = strings.Join(p, ".")
		return h.String()
	}()
	later := func() time.Time { return time.Now().Add(2 * time.Minute) }
	for _, c := range []struct {
		name   string
		hdr    string
		orig   string
		now    func() time.Time
		status int
		anch   *x509.CertPool
		errIs  error
	}{
		{name: "tampered number in From", hdr: good.Header, orig: "12155550000", status: 438},
		{name: "tampered number in PASSporT", hdr: tamperedPayload, orig: "12155550000", status: 438},
		{name: "expired iat", hdr: good.Header, now: later, status: 403},
		{name: "wrong signature", hdr: wrong.Header, status: 438},
		{name: "unreachable x5u", hdr: withX5U("https://127.0.0.1:1/sti.pem"), status: 436, errIs: ErrFetch},
		{name: "disallowed host", hdr: withX5U("https://localhost" + strings.TrimPrefix(f.x5u, "https://127.0.0.1")), status: 436, errIs: ErrHostNotAllowed},
		{name: "plain http x5u", hdr: withX5U("http://127.0.0.1/sti.pem"), status: 436, errIs: ErrHostNotAllowed},
		{name: "oversized certificate", hdr: withX5U(f.srv.URL + "/big.pem"), status: 436, errIs: ErrFetch},
		{name: "untrusted chain", hdr: good.Header, anch: other.RootPool(), status: 437},
		{name: "malformed", hdr: "nonsense", status: 438},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig := c.orig
			if orig == "" {
				orig = "12155551212"
			}
			v := f.verifier(c.now)
			if c.anch != nil {
				v = NewVerifier(VerifierConfig{Anchors: c.anch, Fetcher: f.fetch})
			}
			res := v.Verify(context.Background(), Request{Identity: []string{c.hdr}, Orig: []string{orig}, Dest: []string{"12155551213"}})
			if res.Verstat != VerstatFailed || res.Status != c.status {
				t.Fatalf("got %s %d (%v), want %s %d", res.Verstat, res.Status, res.Err, VerstatFailed, c.status)
			}
			if c.errIs != nil && !errors.Is(res.Err, c.errIs) {
				t.Errorf("error %v, want %v", res.Err, c.errIs)
			}
		})
	}
	res := f.verifier(nil).Verify(context.Background(), Request{Orig: []string{"1"}, Dest: []string{"2"}})
	if res.Verstat != VerstatNone || res.Status != 428 {
		t.Errorf("no Identity: %+v, want No-TN-Validation 428", res)
	}
}

func TestNoTNAuthList(t *testing.T) {
	f := newFixture(t, stitest.Options{NoTNAuthList: true})
	if err := MatchKey(f.pki.Leaf, f.pki.LeafKey); err == nil {
		t.Error("MatchKey accepted a certificate without TNAuthList")
	}
	s, _ := f.signer.Sign("12155551212", "12155551213", AttestFull)
	res := f.verifier(nil).Verify(context.Background(), Request{Identity: []string{s.Header}, Orig: []string{"12155551212"}, Dest: []string{"12155551213"}})
	if res.Status != 437 {
		t.Fatalf("got %+v, want 437", res)
	}
}

func TestParseKey(t *testing.T) {
	p := stitest.New(stitest.Options{})
	k, err := ParseKey(stitest.KeyPEM(p.LeafKey))
	if err != nil || !k.Equal(p.LeafKey) {
		t.Fatalf("ParseKey: %v", err)
	}
	if err := MatchKey(p.Leaf, k); err != nil {
		t.Fatal(err)
	}
	if err := MatchKey(p.Intermediate, k); err == nil {
		t.Error("MatchKey accepted another key's certificate")
	}
}
