package identity

import (
	"context"
	"strings"
	"testing"
)

// FuzzIdentityHeader: any Identity header value, parsed and verified
// (with no host allowed: nothing is fetched), gives a result and never a
// panic; a parsed header formats to one that parses to the same fields.
func FuzzIdentityHeader(f *testing.F) {
	f.Add(`eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln;info=<https://cert.example/a.pem>;alg=ES256;ppt="shaken"`)
	f.Add(`a..b;info=<https://x/y;z=1>;alg=ES256`)
	f.Add(`;info=<>`)
	v := NewVerifier(VerifierConfig{Fetcher: NewFetcher(FetcherConfig{})})
	f.Fuzz(func(t *testing.T, s string) {
		res := v.Verify(context.Background(), Request{Identity: []string{s}, Orig: []string{"1"}, Dest: []string{"2"}})
		if res.Verstat == VerstatPassed {
			t.Fatalf("%q passed with no certificate reachable", s)
		}
		h, err := ParseHeader(s)
		if err != nil || strings.ContainsAny(h.Info+h.Alg+h.PPT+h.Token, "<>;\"") {
			return
		}
		h2, err := ParseHeader(h.String())
		if err != nil || h2 != h {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, h, h.String(), h2, err)
		}
	})
}

// FuzzE164: any number normalises to "+" and 7 to 15 digits, or fails.
func FuzzE164(f *testing.F) {
	f.Add("+44 20 7946 0018", "44", "0", "00")
	f.Add("(215) 555-1212", "1", "", "011")
	f.Fuzz(func(t *testing.T, number, cc, np, ip string) {
		e, ok := Numbering{CountryCode: cc, NationalPrefix: np, InternationalPrefix: ip}.E164(number)
		if !ok {
			return
		}
		d, plus := digitsOf(e)
		if !plus || len(d) < 7 || len(d) > 15 || "+"+d != e {
			t.Fatalf("E164(%q) = %q", number, e)
		}
	})
}
