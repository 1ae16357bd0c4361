package config

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/identity/stitest"
)

// TestIdentityConfig: signing and verification keys are read and checked
// at load, each error naming file, line and key.
func TestIdentityConfig(t *testing.T) {
	p := stitest.New(stitest.Options{})
	other := stitest.New(stitest.Options{})
	dir := t.TempDir()
	write := func(name string, b []byte) string { return stitest.WriteFile(t, dir, name, b) }
	cert, key := write("sti.pem", stitest.CertPEM(p.Leaf)), write("sti.key", stitest.KeyPEM(p.LeafKey))
	otherCert, root := write("other.pem", stitest.CertPEM(other.Leaf)), write("root.pem", stitest.CertPEM(p.Root))
	trunk := "    trusted: [127.0.0.2/32]"
	signing := func(extra string) string {
		return trunk + "\n    numbering: {country_code: \"1\"}\n    identity: {cert: " + cert + ", key: " + key + extra + "}"
	}
	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"http x5u", trunk, signing(`, x5u: "http://cert.example/sti.pem"`), `x.yaml:13: trunks[0].identity.x5u: want the https:// URL`},
		{"certificate of another key", trunk, strings.Replace(signing(`, x5u: "https://cert.example/sti.pem"`), cert, otherCert, 1), `trunks[0].identity.cert: ` + otherCert + `: certificate is not the signing key's`},
		{"missing key", trunk, strings.Replace(signing(`, x5u: "https://c.example/a.pem"`), key, key+".absent", 1), `trunks[0].identity.key: open `},
		{"bad attest", trunk, signing(`, x5u: "https://c.example/a.pem", attest: D`), `trunks[0].identity.attest: must be one of`},
		{"numbering letters", trunk, trunk + "\n    numbering: {country_code: one}", `trunks[0].numbering.country_code: want digits only`},
		{"reject without anchors", "routes:", "identity: {reject: invalid}\nroutes:", `identity.reject: invalid needs identity.trust_anchors`},
		{"anchors without hosts", "routes:", "identity: {trust_anchors: [" + root + "]}\nroutes:", `identity.allowed_x5u_hosts: required with trust_anchors`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse("configs/x.yaml", []byte(strings.Replace(base, tt.from, tt.to, 1)), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
	c, err := parse("x.yaml", []byte(strings.Replace(strings.Replace(base, trunk, signing(`, x5u: "https://c.example/a.pem"`), 1),
		"routes:", "identity: {trust_anchors: ["+root+"], allowed_x5u_hosts: [c.example], reject: all}\nroutes:", 1)), env(map[string]string{"PW_1000": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Trunks[0].Identity.SigningKey == nil || c.Identity.Anchors == nil || !c.Identity.Enabled() {
		t.Errorf("parsed identity: %+v %+v", c.Trunks[0].Identity, c.Identity)
	}
	if tn := c.Trunks[0].Numbering.Plan().TN("2155551212"); tn != "12155551212" {
		t.Errorf("numbering: TN = %q", tn)
	}
}
