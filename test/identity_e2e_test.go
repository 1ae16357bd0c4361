package test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/identity/stitest"
)

// stiServer is a test STI PKI with its certificate chain served over
// HTTPS on loopback, and the files a switchboard config names.
type stiServer struct {
	pki                         *stitest.PKI
	x5u                         string
	certFile, keyFile, rootFile string
	x5uCAFile                   string
	x5uRoots                    *x509.CertPool // verify srv's HTTPS certificate
}

func newSTIServer(t *testing.T) *stiServer {
	t.Helper()
	s := &stiServer{pki: stitest.New(stitest.Options{})}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sti.pem" {
			http.NotFound(w, r)
			return
		}
		w.Write(s.pki.Chain())
	}))
	t.Cleanup(srv.Close)
	s.x5u = srv.URL + "/sti.pem"
	s.x5uRoots = x509.NewCertPool()
	s.x5uRoots.AddCert(srv.Certificate())
	dir := t.TempDir()
	write := func(name string, b []byte) string { return stitest.WriteFile(t, dir, name, b) }
	s.certFile = write("sti.pem", stitest.CertPEM(s.pki.Leaf))
	s.keyFile = write("sti.key", stitest.KeyPEM(s.pki.LeafKey))
	s.rootFile = write("root.pem", stitest.CertPEM(s.pki.Root))
	s.x5uCAFile = write("x5u-ca.pem", stitest.CertPEM(srv.Certificate()))
	return s
}

// verifyBlock is the verifier's identity: section.
func (s *stiServer) verifyBlock(reject string) string {
	return fmt.Sprintf("identity:\n  trust_anchors: [%s]\n  allowed_x5u_hosts: [127.0.0.1]\n  x5u_ca: %s\n  reject: %s\n", s.rootFile, s.x5uCAFile, reject)
}

// verstatCallee answers one call whose From carries verstat=want and
// takes the caller's BYE; any other From fails the sipp run.
func verstatCallee(t *testing.T, want string) string {
	check := `<action>
<ereg regexp="verstat=` + want + `" search_in="hdr" header="From:" check_it="true" assign_to="vs"/>
<ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_from"/>
<ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="remote_contact"/>
</action>`
	return writeScenario(t, "uas-verstat", `<recv request="INVITE">`+check+`</recv>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""),
		refs("vs", "remote_from", "remote_contact"))
}

// identityCaller is a trunk caller (no digest) whose INVITE carries the
// Identity header hv; it talks briefly and hangs up.
func identityCaller(t *testing.T, hv string) string {
	return writeScenario(t, "uac-identity", sigTrustedInviteHeaders("Identity: "+hv+"\n", sdp("sendrecv")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("1"),
		`<pause milliseconds="200"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
}

// TestIdentitySignVerify: Switchboard A signs a call from its user
// 2155551212 to trunk "verifier" (Switchboard B) with attestation A and
// orig/dest in E.164; B fetches the STI certificate over HTTPS, verifies
// the PASSporT and rings its user 1001 (the DID 12155551213) with
// verstat=TN-Validation-Passed in the From; both CDRs carry the origid.
// The same through A's trunk "compact" (form: compact) passes too.
// Then callers on B's trunk send a tampered number, an expired iat, a
// wrong signature and an unreachable x5u: each call rings 1001 with
// TN-Validation-Failed and the CDR names its RFC 8224 status (reject:
// none); with reject: invalid a tampered number gets 438.
func TestIdentitySignVerify(t *testing.T) {
	requireTool(t, "sipp")
	sti := newSTIServer(t)
	sbV := startSB(t, SBOptions{Users: []string{"1001"},
		Trunks: `  - {name: signer, uri: "sip:127.0.0.1:9", trusted: [127.0.0.1/32], numbering: {country_code: "1"}, dids: {"12155551213": "1001"}}`,
		Extra:  sti.verifyBlock("none")})
	sbS := startSB(t, SBOptions{Users: []string{"2155551212"},
		Trunks: fmt.Sprintf(`  - {name: verifier, uri: "sip:127.0.0.1:%d", numbering: {country_code: "1", rewrite_from: true},
      identity: {cert: %s, key: %s, x5u: %q}}
  - {name: compact, uri: "sip:127.0.0.1:%d", numbering: {country_code: "1", rewrite_from: true},
      identity: {cert: %s, key: %s, x5u: %q, form: compact}}`, sbV.SIPPort, sti.certFile, sti.keyFile, sti.x5u, sbV.SIPPort, sti.certFile, sti.keyFile, sti.x5u),
		Routes: `  - {match: '^1\d{10}$', to: trunk:verifier}
  - {match: '^8(1\d{10})$', to: trunk:compact, rewrite: '$1'}`})
	dir := t.TempDir()
	phone, caller := sigPeerPort(), sigPeerPort()
	sigRegisterFrom(t, sbV, "1001", phone, 300)

	// Signed by A, verified by B.
	done := sigSippUAS(t, dir, verstatCallee(t, identity.VerstatPassed), "127.0.0.1", phone, phone+2)
	sippOK(t, "caller", sigCall(t, dir, dnsCaller(t), sbS, "127.0.0.3", caller, "2155551212", "12155551213",
		"-au", "2155551212", "-ap", sbS.Users["2155551212"]))
	sippOK(t, "callee 1001", <-done)
	signed, verified := oneCDR(t, sbS), oneCDR(t, sbV)
	if signed.Attest != "A" || len(signed.OrigID) != 36 {
		t.Errorf("signer CDR attest %q origid %q, want A and a UUID", signed.Attest, signed.OrigID)
	}
	if verified.Verstat != identity.VerstatPassed || verified.VerifiedOrigID != signed.OrigID || verified.VerifiedAttest != "A" {
		t.Errorf("verifier CDR verstat %q origid %q attest %q, want %s, %q, A (error %q)",
			verified.Verstat, verified.VerifiedOrigID, verified.VerifiedAttest, identity.VerstatPassed, signed.OrigID, verified.VerifyError)
	}

	// The compact form (RFC 8225 §7): B rebuilds the payload from From,
	// Request-URI and Date; no attest or origid travel.
	done = sigSippUAS(t, dir, verstatCallee(t, identity.VerstatPassed), "127.0.0.1", phone, phone+2)
	sippOK(t, "compact caller", sigCall(t, dir, dnsCaller(t), sbS, "127.0.0.3", caller, "2155551212", "812155551213",
		"-au", "2155551212", "-ap", sbS.Users["2155551212"]))
	sippOK(t, "compact callee 1001", <-done)
	if recs := sbV.WaitCDRs(2, 5*time.Second); len(recs) != 2 || recs[1].Verstat != identity.VerstatPassed || recs[1].VerifiedOrigID != "" {
		t.Fatalf("compact form: verifier CDRs %+v, want the second passed without origid", recs)
	}

	// Identity headers made here, sent on B's trunk from 127.0.0.1.
	sign := func(key *stitest.PKI, x5u string, now func() time.Time) string {
		s, err := identity.NewSigner(identity.SignerConfig{Key: key.LeafKey, X5U: x5u, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Sign("12155551212", "12155551213", identity.AttestFull)
		if err != nil {
			t.Fatal(err)
		}
		return v.Header
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	unreachable := "https://" + closed.Addr().String() + "/sti.pem"
	closed.Close()
	stale := func() time.Time { return time.Now().Add(-2 * time.Minute) }
	cases := []struct {
		name, from, hdr string
		status          int
	}{
		{"tampered number", "2155550000", sign(sti.pki, sti.x5u, nil), 438},
		{"expired iat", "2155551212", sign(sti.pki, sti.x5u, stale), 403},
		{"wrong signature", "2155551212", sign(stitest.New(stitest.Options{}), sti.x5u, nil), 438},
		{"unreachable x5u", "2155551212", sign(sti.pki, unreachable, nil), 436},
	}
	for i, c := range cases {
		done := sigSippUAS(t, dir, verstatCallee(t, identity.VerstatFailed), "127.0.0.1", phone, phone+2)
		sippOK(t, c.name+" caller", sigCall(t, dir, identityCaller(t, c.hdr), sbV, "127.0.0.1", caller, c.from, "12155551213"))
		sippOK(t, c.name+" callee", <-done)
		recs := sbV.WaitCDRs(i+3, 5*time.Second)
		if len(recs) != i+3 {
			t.Fatalf("%s: %d CDRs, want %d", c.name, len(recs), i+3)
		}
		r := recs[i+2]
		if r.Verstat != identity.VerstatFailed || r.VerifyStatus != c.status || r.Status != 200 {
			t.Errorf("%s: CDR verstat %q verify_status %d (%q) status %d, want %s %d, answered",
				c.name, r.Verstat, r.VerifyStatus, r.VerifyError, r.Status, identity.VerstatFailed, c.status)
		}
	}

	// reject: invalid refuses a tampered number with 438.
	sbR := startSB(t, SBOptions{Users: []string{"1001"},
		Trunks: `  - {name: signer, uri: "sip:127.0.0.1:9", trusted: [127.0.0.1/32], numbering: {country_code: "1"}, dids: {"12155551213": "1001"}}`,
		Extra:  sti.verifyBlock("invalid")})
	refused := writeScenario(t, "uac-identity-438", sigTrustedInviteHeaders("Identity: "+cases[0].hdr+"\n", sdp("sendrecv")),
		`<recv response="438"><action><ereg regexp="399 switchboard .Invalid Identity Header." search_in="hdr" header="Warning:" check_it="true" assign_to="w"/></action></recv>`,
		refs("w"), strings.Replace(uacAckFinal(), "CSeq: 2 ACK", "CSeq: 1 ACK", 1)) // the ACK of a CSeq 1 INVITE
	sippOK(t, "refused caller", sigCall(t, dir, refused, sbR, "127.0.0.1", caller, "2155550000", "12155551213"))
	r := oneCDR(t, sbR)
	if r.Status != 438 || r.Verstat != identity.VerstatFailed || !strings.Contains(r.HangupReason, "Invalid Identity Header") {
		t.Errorf("reject: invalid CDR status %d verstat %q reason %q, want 438 Invalid Identity Header", r.Status, r.Verstat, r.HangupReason)
	}
}

// TestIdentityInteropSecsipidx: a PASSporT signed by secsipidx (asipto's
// STIR/SHAKEN tool, Debian package secsipidx) with the test STI key
// verifies with Switchboard's verifier (certificate fetched over HTTPS,
// chain, TNAuthList, signature, claims), and one signed by Switchboard
// passes secsipidx's own check with the public key.
func TestIdentityInteropSecsipidx(t *testing.T) {
	tool := requireTool(t, "secsipidx")
	sti := newSTIServer(t)
	out, err := exec.Command(tool, "-sign-full", "-o", "12155551212", "-d", "12155551213", "-a", "B",
		"-orig-id", "a1b2c3d4-0000-4000-8000-000000000001", "-x5u", sti.x5u, "-k", sti.keyFile).CombinedOutput()
	if err != nil {
		t.Fatalf("secsipidx -sign-full: %v\n%s", err, out)
	}
	f := identity.NewFetcher(identity.FetcherConfig{AllowedHosts: []string{"127.0.0.1"}, RootCAs: sti.x5uRoots})
	v := identity.NewVerifier(identity.VerifierConfig{Anchors: sti.pki.RootPool(), Fetcher: f})
	hv := strings.TrimSpace(string(out))
	res := v.Verify(context.Background(), identity.Request{Identity: []string{hv}, Orig: []string{"12155551212"}, Dest: []string{"12155551213"}})
	if res.Verstat != identity.VerstatPassed || res.Attest != "B" || res.OrigID != "a1b2c3d4-0000-4000-8000-000000000001" {
		t.Errorf("secsipidx's PASSporT: %+v (%v), want passed, B, its origid\n%s", res, res.Err, hv)
	}

	der, err := x509.MarshalPKIXPublicKey(&sti.pki.LeafKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := stitest.WriteFile(t, t.TempDir(), "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	s, err := identity.NewSigner(identity.SignerConfig{Key: sti.pki.LeafKey, X5U: sti.x5u})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := s.Sign("12155551212", "12155551213", identity.AttestFull)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(tool, "-check", "-identity", ours.Header, "-p", pub, "-expire", "60").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("secsipidx -check of Switchboard's Identity: %v %q\n%s", err, out, ours.Header)
	}
	// And it can fail: a tampered payload does not pass its check.
	tampered := strings.Replace(ours.Header, ".", ".e30", 1)
	if out, err := exec.Command(tool, "-check", "-identity", tampered, "-p", pub, "-expire", "60").CombinedOutput(); err == nil && strings.TrimSpace(string(out)) == "ok" {
		t.Errorf("secsipidx -check passed a tampered Identity")
	}
}
