package auth

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want credentials
		err  bool
	}{
		{
			name: "typical phone",
			in:   `Digest username="1000",realm="pbx",nonce="n1",uri="sip:pbx",response="abc",algorithm=MD5,cnonce="c1",qop=auth,nc=00000001`,
			want: credentials{username: "1000", realm: "pbx", nonce: "n1", uri: "sip:pbx", response: "abc", algorithm: "MD5", cnonce: "c1", qop: "auth", nc: 1, hasNC: true},
		},
		{
			name: "case, tabs, folding, empty elements, escapes",
			in:   "digest  USERNAME = \"a\\\"b\" ,\t, Realm=\"r\\\\x\",\r\n nc=0000000A, opaque=tok.en_x",
			want: credentials{username: `a"b`, realm: `r\x`, opaque: "tok.en_x", nc: 10, hasNC: true},
		},
		{name: "unknown params ignored", in: `Digest foo="bar", username=u`, want: credentials{username: "u"}},
		{name: "userhash", in: `Digest userhash=TRUE`, want: credentials{userhash: true}},
		{name: "not digest", in: `Basic dXNlcjpwYXNz`, err: true},
		{name: "digest prefix of a word", in: `Digestive username="u"`, err: true},
		{name: "duplicate", in: `Digest username="a", username="b"`, err: true},
		{name: "unterminated", in: `Digest username="a`, err: true},
		{name: "missing =", in: `Digest username "a"`, err: true},
		{name: "missing comma", in: `Digest username="a" realm="b"`, err: true},
		{name: "bad nc", in: `Digest nc=xyz`, err: true},
		{name: "nc too long", in: `Digest nc=000000001`, err: true},
		{name: "empty value", in: `Digest username=, realm="r"`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCredentials(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// format writes credentials back as a header value, quoting every value.
func format(c credentials) string {
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	parts := []string{
		"username=" + q(c.username), "realm=" + q(c.realm), "nonce=" + q(c.nonce), "uri=" + q(c.uri),
		"response=" + q(c.response), "algorithm=" + q(c.algorithm), "cnonce=" + q(c.cnonce),
		"opaque=" + q(c.opaque), "qop=" + q(c.qop),
	}
	if c.hasNC {
		parts = append(parts, "nc="+strconv.FormatUint(uint64(c.nc), 16))
	}
	if c.userhash {
		parts = append(parts, "userhash=true")
	}
	return "Digest " + strings.Join(parts, ", ")
}

// FuzzParseCredentials checks the parser never panics and that whatever it
// accepts survives a format/parse round trip unchanged.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		`Digest username="1000", realm="pbx", nonce="n", uri="sip:pbx", response="0123", algorithm=SHA-256, cnonce="c", qop=auth, nc=00000001, opaque="o"`,
		`Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
		"digest a=\"\\\"\",,\t,b=c",
		`Digest `,
		`Digest username="`,
		`Digest nc=ffffffff`,
		`Basic abc`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCredentials(s)
		if err != nil {
			return
		}
		// Fields that were absent compare equal to fields written as "".
		c2, err := parseCredentials(format(c))
		if err != nil {
			t.Fatalf("reparse of %q: %v", format(c), err)
		}
		if c2 != c {
			t.Fatalf("round trip changed\n%+v\n%+v", c, c2)
		}
	})
}
