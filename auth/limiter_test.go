package auth

import (
	"net/netip"
	"testing"
)

// fakeLimiter blocks the sources in banned and records failures.
type fakeLimiter struct {
	banned   map[netip.Addr]bool
	failures []string
}

func (f *fakeLimiter) Blocked(src netip.Addr, user string) bool { return f.banned[src] }

func (f *fakeLimiter) Failed(src netip.Addr, user string, known bool) {
	k := "unknown:"
	if known {
		k = "known:"
	}
	f.failures = append(f.failures, k+src.String()+":"+user)
}

func TestLimiter(t *testing.T) {
	src := netip.MustParseAddr("192.0.2.10") // rawRegister's Via
	for _, tc := range []struct {
		name         string
		banned       bool
		user, pass   string
		want         Reason
		wantFailures []string
	}{
		{"right password", false, "1000", "secret-1000", OK, nil},
		{"wrong password counted", false, "1000", "wrong", BadPassword, []string{"known:192.0.2.10:1000"}},
		{"unknown user counted", false, "9999", "wrong", UnknownUser, []string{"unknown:192.0.2.10:9999"}},
		{"banned: right password refused", true, "1000", "secret-1000", Blocked, nil},
		{"banned: wrong password not counted again", true, "1000", "wrong", Blocked, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newTestAuth(t)
			l := &fakeLimiter{banned: map[netip.Addr]bool{src: tc.banned}}
			a.SetLimiter(l)
			req := newRequest(t, rawRegister)
			_, ch := a.Authenticate(req, WWW)
			r := a.Check(answer(t, req, ch, WWW, "SHA-256", tc.user, tc.pass, "sip:pbx.example.com", 1), WWW)
			if r.Reason != tc.want {
				t.Fatalf("reason %s, want %s", r.Reason, tc.want)
			}
			if len(l.failures) != len(tc.wantFailures) || (len(l.failures) > 0 && l.failures[0] != tc.wantFailures[0]) {
				t.Fatalf("failures %q, want %q", l.failures, tc.wantFailures)
			}
			if tc.want == OK {
				return
			}
			// A banned source's answer is the wrong password's answer.
			wrong := a.Check(answer(t, req, ch, WWW, "SHA-256", "1000", "wrong", "sip:pbx.example.com", 2), WWW)
			got := maskRe.ReplaceAllString(r.Challenge.String(), "${1}X")
			want := maskRe.ReplaceAllString(wrong.Challenge.String(), "${1}X")
			if got != want {
				t.Errorf("responses differ:\n%s\n---\n%s", got, want)
			}
		})
	}
}
