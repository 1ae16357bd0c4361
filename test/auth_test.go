package test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var reParam = func(name string) *regexp.Regexp { return regexp.MustCompile(name + `="[^"]*"`) }

// challengeParams extracts realm, nonce, opaque of the MD5 challenge.
func challengeParams(res, header string) (realm, nonce, opaque string) {
	for _, line := range strings.Split(res, "\r\n") {
		if !strings.HasPrefix(strings.ToLower(line), strings.ToLower(header)+":") || !strings.Contains(line, "MD5") || strings.Contains(line, "SHA-256") {
			continue
		}
		get := func(k string) string {
			m := regexp.MustCompile(k + `="([^"]*)"`).FindStringSubmatch(line)
			if m == nil {
				return ""
			}
			return m[1]
		}
		return get("realm"), get("nonce"), get("opaque")
	}
	return "", "", ""
}

func md5hex(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// digestHeader computes an RFC 2617/7616 MD5 qop=auth response.
func digestHeader(name, user, pass, realm, nonce, opaque, method, uri string) string {
	ha1 := md5hex(user + ":" + realm + ":" + pass)
	ha2 := md5hex(method + ":" + uri)
	cnonce, nc := "0a4f113b", "00000001"
	resp := md5hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf("%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=MD5, qop=auth, nc=%s, cnonce=\"%s\", opaque=\"%s\"\r\n",
		name, user, realm, nonce, uri, resp, nc, cnonce, opaque)
}

// normalise masks what legitimately differs between two responses.
func normalise(res string) string {
	for _, p := range []string{"nonce", "opaque", "cnonce"} {
		res = reParam(p).ReplaceAllString(res, p+`="X"`)
	}
	res = regexp.MustCompile(`(tag|branch|rport)=[^;\r\n>]*`).ReplaceAllString(res, "$1=X")
	res = regexp.MustCompile(`(?m)^(Call-ID|Date|From|To|Via|CSeq|Content-Length):.*$`).ReplaceAllString(res, "$1: X")
	return res
}

// TestUnknownUserLooksLikeWrongPassword: a caller must not learn which user
// names exist. INVITE (407) and REGISTER (401) with a wrong password for a
// real user and with any password for a non-existent one get the same
// response, byte for byte once nonces and tags are masked.
func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	// The RFC 8760 order: SHA-256 then MD5 challenges; this client answers MD5.
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, Digest: "SHA-256, MD5"})
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())

	for _, tc := range []struct {
		method, ruri, header, authHeader string
		code                             string
	}{
		{"INVITE", "sip:1001@127.0.0.1", "Proxy-Authenticate", "Proxy-Authorization", "407"},
		{"REGISTER", "sip:127.0.0.1", "WWW-Authenticate", "Authorization", "401"},
	} {
		attempt := func(user, pass string) string {
			to := user
			if tc.method == "INVITE" {
				to = "1001"
			}
			r := newSigReq(tc.method, tc.ruri, user, to)
			r.Headers = []string{fmt.Sprintf("Contact: <sip:%s@%s>", user, ua.Local)}
			if tc.method == "INVITE" {
				r.Body = sigSDP("0")
			}
			_, raw := ua.do(r)
			if !strings.HasPrefix(raw, "SIP/2.0 "+tc.code) {
				t.Fatalf("%s without credentials: got\n%s", tc.method, raw)
			}
			realm, nonce, opaque := challengeParams(raw, tc.header)
			if nonce == "" {
				t.Fatalf("no MD5 challenge in\n%s", raw)
			}
			r.CSeq++
			r.Branch = ""
			r.Headers = append(r.Headers, strings.TrimSuffix(digestHeader(tc.authHeader, user, pass, realm, nonce, opaque, tc.method, tc.ruri), "\r\n"))
			_, raw = ua.do(r)
			return raw
		}
		wrong := attempt("1000", "not-the-password")
		unknown := attempt("7777", "whatever")
		if !strings.HasPrefix(wrong, "SIP/2.0 "+tc.code) {
			t.Errorf("%s wrong password: want %s, got\n%s", tc.method, tc.code, wrong)
		}
		if normalise(wrong) != normalise(unknown) {
			t.Errorf("%s: wrong password and unknown user differ:\n--- wrong password\n%s\n--- unknown user\n%s", tc.method, normalise(wrong), normalise(unknown))
		}
		// And the right password gets through (proves the test can tell).
		good := attempt("1000", sb.Users["1000"])
		if strings.HasPrefix(good, "SIP/2.0 "+tc.code) {
			t.Errorf("%s with the right password still challenged:\n%s", tc.method, good)
		}
	}
}
