package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"hash"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// RFC 7616 §3.9.1 and RFC 2617 §3.5 worked examples, computed by our
// digestResponse from the RFC's own Authorization header text.
func TestDigestRFCVectors(t *testing.T) {
	tests := []struct {
		name     string
		newHash  func() hash.Hash
		password string
		method   string
		header   string
		want     string
	}{
		{
			name: "RFC 7616 3.9.1 MD5", newHash: md5.New, password: "Circle of Life", method: "GET",
			header: `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
       algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
       response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			want: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			name: "RFC 7616 3.9.1 SHA-256", newHash: sha256.New, password: "Circle of Life", method: "GET",
			header: `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
       algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
       cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
       response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			want: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
		{
			name: "RFC 2617 3.5 MD5", newHash: md5.New, password: "Circle Of Life", method: "GET",
			header: `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want: "6629fae49393a05397450978507c4ef1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCredentials(tt.header)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if c.response != tt.want {
				t.Fatalf("parsed response %q, want %q", c.response, tt.want)
			}
			got := digestResponse(tt.newHash, c.username, c.realm, tt.password, tt.method, c.uri, c.nonce, c.nc, c.cnonce, c.qop)
			if got != tt.want {
				t.Errorf("digest = %s, want %s", got, tt.want)
			}
		})
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const testRealm = "pbx.example.com"

func newTestAuth(t testing.TB) (*Authenticator, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	users := map[string]string{"1000": "secret-1000", "1001": "secret-1001"}
	a := New(testRealm, func(u string) (string, bool) { pw, ok := users[u]; return pw, ok }, 5*time.Minute, clk.now)
	return a, clk
}

const rawRegister = "REGISTER sip:pbx.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: <sip:1000@pbx.example.com>\r\n" +
	"From: <sip:1000@pbx.example.com>;tag=456248\r\n" +
	"Call-ID: 843817637684230@998sdasdh09\r\n" +
	"CSeq: 1826 REGISTER\r\n" +
	"Contact: <sip:1000@192.0.2.10:5060>\r\n" +
	"Expires: 600\r\n" +
	"Content-Length: 0\r\n\r\n"

func newRequest(t testing.TB, raw string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m.(*sip.Request)
}

// answer computes credentials for a challenge with an independent client
// implementation (github.com/icholy/digest) and adds them to a copy of req.
func answer(t testing.TB, req *sip.Request, ch *sip.Response, kind Kind, alg, user, password, uri string, count int) *sip.Request {
	t.Helper()
	var chal *digest.Challenge
	for _, h := range ch.GetHeaders(kind.challengeHeader()) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatalf("parse challenge %q: %v", h.Value(), err)
		}
		if c.Algorithm == alg {
			chal = c
		}
	}
	if chal == nil {
		t.Fatalf("no %s challenge in %s", alg, ch)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: string(req.Method), URI: uri, Username: user, Password: password, Count: count})
	if err != nil {
		t.Fatal(err)
	}
	r := req.Clone()
	r.RemoveHeader(kind.credentialsHeader())
	r.AppendHeader(sip.NewHeader(kind.credentialsHeader(), cred.String()))
	return r
}

func TestChallengeShape(t *testing.T) {
	for _, kind := range []Kind{WWW, Proxy} {
		a, _ := newTestAuth(t)
		req := newRequest(t, rawRegister)
		r := a.Check(req, kind)
		if r.Reason != NoCredentials || r.Challenge == nil {
			t.Fatalf("kind %d: reason %v, challenge %v", kind, r.Reason, r.Challenge)
		}
		code, _ := kind.status()
		if r.Challenge.StatusCode != code {
			t.Errorf("kind %d: status %d, want %d", kind, r.Challenge.StatusCode, code)
		}
		hs := r.Challenge.GetHeaders(kind.challengeHeader())
		if len(hs) != 2 {
			t.Fatalf("kind %d: %d challenges, want 2", kind, len(hs))
		}
		for i, alg := range []string{"SHA-256", "MD5"} {
			c, err := digest.ParseChallenge(hs[i].Value())
			if err != nil {
				t.Fatal(err)
			}
			if c.Algorithm != alg || c.Realm != testRealm || c.Opaque == "" || c.Stale || !c.SupportsQOP("auth") {
				t.Errorf("challenge %d = %+v", i, c)
			}
		}
	}
}

func TestAuthenticate(t *testing.T) {
	const uri = "sip:pbx.example.com"
	tests := []struct {
		name     string
		kind     Kind
		alg      string
		user     string
		password string
		uri      string
		want     Reason
	}{
		{"SHA-256", WWW, "SHA-256", "1000", "secret-1000", uri, OK},
		{"MD5", WWW, "MD5", "1000", "secret-1000", uri, OK},
		{"proxy SHA-256", Proxy, "SHA-256", "1001", "secret-1001", uri, OK},
		{"proxy MD5", Proxy, "MD5", "1001", "secret-1001", uri, OK},
		{"uri with port and params", WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com:5060;transport=udp", OK},
		{"wrong password", WWW, "SHA-256", "1000", "nope", uri, BadPassword},
		{"unknown user", WWW, "SHA-256", "2000", "secret-1000", uri, UnknownUser},
		{"other user's password", WWW, "MD5", "1001", "secret-1000", uri, BadPassword},
		{"uri mismatch", WWW, "SHA-256", "1000", "secret-1000", "sip:evil.example.com", Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newTestAuth(t)
			req := newRequest(t, rawRegister)
			user, ch := a.Authenticate(req, tt.kind)
			if ch == nil {
				t.Fatalf("no challenge without credentials (user %q)", user)
			}
			req2 := answer(t, req, ch, tt.kind, tt.alg, tt.user, tt.password, tt.uri, 1)
			r := a.Check(req2, tt.kind)
			if r.Reason != tt.want {
				t.Fatalf("reason %v, want %v", r.Reason, tt.want)
			}
			if tt.want == OK {
				if r.User != tt.user || r.Challenge != nil {
					t.Errorf("user %q challenge %v", r.User, r.Challenge)
				}
				return
			}
			if r.Challenge == nil {
				t.Fatal("failure without challenge")
			}
			if strings.Contains(r.Challenge.String(), "stale=true") {
				t.Error("stale=true on a failed digest")
			}
			// The other kind's header does not count.
			other := Proxy
			if tt.kind == Proxy {
				other = WWW
			}
			if r := a.Check(req2, other); r.Reason != NoCredentials {
				t.Errorf("other kind: %v", r.Reason)
			}
		})
	}
}

func TestStaleNonce(t *testing.T) {
	a, clk := newTestAuth(t)
	req := newRequest(t, rawRegister)
	_, ch := a.Authenticate(req, WWW)
	clk.add(5*time.Minute + time.Second)
	r := a.Check(answer(t, req, ch, WWW, "SHA-256", "1000", "secret-1000", "sip:pbx.example.com", 1), WWW)
	if r.Reason != Stale || !strings.Contains(r.Challenge.String(), "stale=true") {
		t.Fatalf("reason %v challenge %v", r.Reason, r.Challenge)
	}
	// A wrong password with an old nonce is not stale: the client must not
	// retry silently.
	r = a.Check(answer(t, req, ch, WWW, "SHA-256", "1000", "bad", "sip:pbx.example.com", 1), WWW)
	if r.Reason != BadPassword || strings.Contains(r.Challenge.String(), "stale=true") {
		t.Fatalf("reason %v challenge %v", r.Reason, r.Challenge)
	}
	// The fresh challenge works.
	req2 := answer(t, req, r.Challenge, WWW, "SHA-256", "1000", "secret-1000", "sip:pbx.example.com", 1)
	if user, ch := a.Authenticate(req2, WWW); ch != nil || user != "1000" {
		t.Fatalf("after stale: %q %v", user, ch)
	}
}

func TestNonceCountReplay(t *testing.T) {
	a, clk := newTestAuth(t)
	req := newRequest(t, rawRegister)
	_, ch := a.Authenticate(req, WWW)
	steps := []struct {
		nc   int
		want Reason
	}{
		{1, OK},
		{1, Replay}, // the same request again
		{3, OK},     // gaps are fine
		{2, Replay}, // going back is not
		{3, Replay},
		{4, OK},
	}
	for i, s := range steps {
		clk.add(time.Second)
		r := a.Check(answer(t, req, ch, WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com", s.nc), WWW)
		if r.Reason != s.want {
			t.Fatalf("step %d nc=%d: %v, want %v", i, s.nc, r.Reason, s.want)
		}
		if s.want == Replay && !strings.Contains(r.Challenge.String(), "stale=true") {
			t.Errorf("step %d: replay challenge without stale=true", i)
		}
	}
	// Expired nonces leave the table.
	clk.add(10 * time.Minute)
	_, ch2 := a.Authenticate(req, WWW)
	if r := a.Check(answer(t, req, ch2, WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com", 1), WWW); r.Reason != OK {
		t.Fatalf("new nonce: %v", r.Reason)
	}
	if n := a.nc.len(); n != 1 {
		t.Errorf("tracked nonces %d, want 1 (expired one pruned)", n)
	}
}

func TestNCTableEviction(t *testing.T) {
	tb := newNCTable(2)
	const never = -1 << 62
	if !tb.check("a", 1, 1, never) || !tb.check("b", 2, 1, never) || !tb.check("c", 3, 1, never) {
		t.Fatal("first uses refused")
	}
	// "a" was evicted early: seen again it must be refused, whatever its nc.
	if tb.check("a", 1, 5, never) {
		t.Error("evicted nonce accepted: replay window re-opened")
	}
	// Nonces issued after the evicted one still work.
	if !tb.check("d", 4, 1, never) {
		t.Error("newer nonce refused")
	}
	if tb.len() > 2 {
		t.Errorf("table holds %d > 2", tb.len())
	}
}

var maskRe = regexp.MustCompile(`(nonce="|tag=)[^";\r\n]*`)

// An unknown user and a wrong password must look the same on the wire.
func TestUnknownUserIndistinguishable(t *testing.T) {
	a, _ := newTestAuth(t)
	req := newRequest(t, rawRegister)
	_, ch := a.Authenticate(req, WWW)
	var got []string
	for _, user := range []string{"1000", "9999"} {
		r := a.Check(answer(t, req, ch, WWW, "SHA-256", user, "wrong", "sip:pbx.example.com", 1), WWW)
		if r.Challenge == nil {
			t.Fatal("no challenge")
		}
		got = append(got, maskRe.ReplaceAllString(r.Challenge.String(), "${1}X"))
	}
	if got[0] != got[1] {
		t.Errorf("responses differ:\n%s\n---\n%s", got[0], got[1])
	}
}

func TestForgedNonceAndOpaque(t *testing.T) {
	a, _ := newTestAuth(t)
	b, _ := newTestAuth(t) // another process: another key
	req := newRequest(t, rawRegister)
	_, chB := b.Authenticate(req, WWW)
	// b's nonce and opaque presented to a.
	if r := a.Check(answer(t, req, chB, WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com", 1), WWW); r.Reason != BadNonce {
		t.Errorf("foreign nonce: %v", r.Reason)
	}
	// a's nonce with a flipped MAC byte.
	_, chA := a.Authenticate(req, WWW)
	good := answer(t, req, chA, WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com", 1)
	h := good.GetHeader("Authorization").Value()
	i := strings.Index(h, `nonce="`) + len(`nonce="`) + 40
	flip := byte('A')
	if h[i] == 'A' {
		flip = 'B'
	}
	bad := good.Clone()
	bad.RemoveHeader("Authorization")
	bad.AppendHeader(sip.NewHeader("Authorization", h[:i]+string(flip)+h[i+1:]))
	if r := a.Check(bad, WWW); r.Reason != BadNonce {
		t.Errorf("tampered nonce: %v", r.Reason)
	}
}

func TestRealmAndUnsupported(t *testing.T) {
	a, _ := newTestAuth(t)
	req := newRequest(t, rawRegister)
	_, ch := a.Authenticate(req, WWW)
	good := answer(t, req, ch, WWW, "SHA-256", "1000", "secret-1000", "sip:pbx.example.com", 1).GetHeader("Authorization").Value()
	tests := []struct {
		name, from, to string
		want           Reason
	}{
		{"other realm", `realm="` + testRealm + `"`, `realm="other"`, NoCredentials},
		{"SHA-512-256", "algorithm=SHA-256", "algorithm=SHA-512-256", Malformed},
		{"no qop", "qop=auth", "", Malformed},
		{"auth-int", "qop=auth", "qop=auth-int", Malformed},
		{"garbage", "Digest ", "Digest ,,=", Malformed},
		{"basic", "Digest ", "Basic ", NoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req.Clone()
			r.AppendHeader(sip.NewHeader("Authorization", strings.Replace(good, tt.from, tt.to, 1)))
			if got := a.Check(r, WWW); got.Reason != tt.want {
				t.Errorf("reason %v, want %v", got.Reason, tt.want)
			}
		})
	}
}

func TestSetLookup(t *testing.T) {
	a, _ := newTestAuth(t)
	req := newRequest(t, rawRegister)
	a.SetLookup(func(u string) (string, bool) { return "new-pw", u == "1000" })
	_, ch := a.Authenticate(req, WWW)
	if r := a.Check(answer(t, req, ch, WWW, "MD5", "1000", "secret-1000", "sip:pbx.example.com", 1), WWW); r.Reason != BadPassword {
		t.Errorf("old password: %v", r.Reason)
	}
	if r := a.Check(answer(t, req, ch, WWW, "MD5", "1000", "new-pw", "sip:pbx.example.com", 1), WWW); r.Reason != OK {
		t.Errorf("new password: %v", r.Reason)
	}
}

func TestConcurrentAuthenticate(t *testing.T) {
	a, _ := newTestAuth(t)
	req := newRequest(t, rawRegister)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				_, ch := a.Authenticate(req, WWW)
				if r := a.Check(answer(t, req, ch, WWW, "SHA-256", "1000", "secret-1000", "sip:pbx.example.com", 1), WWW); r.Reason != OK {
					errs <- fmt.Errorf("goroutine %d iteration %d: %v", g, i, r.Reason)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	a, _ := newTestAuth(b)
	req := newRequest(b, rawRegister)
	_, ch := a.Authenticate(req, WWW)
	reqs := make([]*sip.Request, b.N)
	for i := range reqs {
		reqs[i] = answer(b, req, ch, WWW, "SHA-256", "1000", "secret-1000", "sip:pbx.example.com", i+1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ch := a.Authenticate(reqs[i], WWW); ch != nil {
			b.Fatal("challenged")
		}
	}
}
