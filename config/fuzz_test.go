package config

import (
	"os"
	"testing"
)

// FuzzParse checks that no input makes the loader panic and that whatever
// it accepts has its derived fields filled.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	for _, p := range []string{"../configs/switchboard.yaml", "../configs/examples/pbx-trunk.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("sip: &a {domain: x}\nmedia: *a\n"))
	f.Add([]byte("<<: {sip: {}}\n"))
	f.Add([]byte("sip: &a\n  <<: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse("fuzz.yaml", data, env(map[string]string{"PW_1000": "x"}))
		if err != nil {
			return
		}
		if len(c.SIP.Listeners) != len(c.SIP.Listen) || c.Media.PortMin == 0 {
			t.Fatalf("accepted without derived fields: %+v", c)
		}
		for _, r := range c.Routes {
			if r.Re == nil {
				t.Fatal("route without compiled Re")
			}
		}
	})
}

// FuzzExpandEnv checks expansion never panics and leaves text without "${"
// unchanged.
func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"${A}", "${A:-b}", "$${A}", "${", "x${A:-}y", "${A}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := expandEnv(s, env(map[string]string{"A": "v"}))
		if err == nil && !containsExpr(s) && out != s {
			t.Fatalf("%q changed to %q", s, out)
		}
	})
}

func containsExpr(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '{' {
			return true
		}
	}
	return false
}
