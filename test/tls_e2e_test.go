package test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tlsPhoneAndUDPPhone starts Switchboard with a tls:// listener, user 1000
// on a baresip registered over TLS (verifying the generated certificate,
// playing 440 Hz) and user 1001 on one over UDP (1000 Hz).
func tlsPhoneAndUDPPhone(t *testing.T) (*SB, *Baresip, *Baresip) {
	t.Helper()
	sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, TLS: true})
	ca := filepath.Join(sb.Dir, "state", "tls.crt")
	tlsPhone := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true,
		Transport: "tls", ServerPort: sb.TLSPort, CAFile: ca})
	udpPhone := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Transport: "udp"})
	if !regexp.MustCompile(`user=1000 .*transport=TLS`).MatchString(sb.Output()) {
		t.Fatalf("1000 did not register over TLS")
	}
	return sb, tlsPhone, udpPhone
}

// TestTLSCallReachesPhoneOverItsTLSConnection: the UDP phone calls the TLS
// phone, whose baresip has no certificate and so listens for no TLS at
// all: the call reaches it over the connection it registered on; each
// hears the other.
func TestTLSCallReachesPhoneOverItsTLSConnection(t *testing.T) {
	sb, tlsPhone, udpPhone := tlsPhoneAndUDPPhone(t)
	rec := toneCall(t, sb, udpPhone, tlsPhone, fmt.Sprintf("sip:1000@127.0.0.1:%d;transport=udp", sb.SIPPort), 3*time.Second)
	if rec.TransportA != "UDP" || rec.TransportB != "TLS" {
		t.Fatalf("CDR transports %q / %q, want UDP / TLS", rec.TransportA, rec.TransportB)
	}
}

// TestTLSSelfSignedCertificate: with no sip.tls, a certificate is generated
// into the state dir at first start (key mode 0600), its SHA-256
// fingerprint logged.
func TestTLSSelfSignedCertificate(t *testing.T) {
	sb := startSB(t, SBOptions{TLS: true})
	keyFile := filepath.Join(sb.Dir, "state", "tls.key")
	st, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", keyFile, st.Mode().Perm())
	}
	fp := regexp.MustCompile(`TLS certificate.*sha256=([0-9A-F:]{95})`).FindStringSubmatch(sb.Output())
	if fp == nil {
		t.Fatalf("no fingerprint in the log:\n%s", sb.Output())
	}
	if !strings.Contains(sb.Output(), "generated a self-signed TLS certificate") {
		t.Fatalf("no generation logged")
	}
}

// TestTLSBaresipCallsUDP: a baresip registered over TLS (verifying
// Switchboard's generated certificate) calls a baresip on UDP; each hears
// the other's tone, and the CDR records the transport of each leg.
func TestTLSBaresipCallsUDP(t *testing.T) {
	sb, alice, bob := tlsPhoneAndUDPPhone(t)
	rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=tls", sb.TLSPort), 3*time.Second)
	if rec.TransportA != "TLS" || rec.TransportB != "UDP" {
		t.Fatalf("CDR transports %q / %q, want TLS / UDP", rec.TransportA, rec.TransportB)
	}
}

// tlsTrunkCall: a UDP phone dials 9000, routed to a baresip trunk that
// answers over TLS with cert; the trunk's tls_ca is ca.
func tlsTrunkCall(t *testing.T, ca *testCA, cert testCert, trunkExtra string) (*SB, *Baresip, *Baresip) {
	t.Helper()
	carrierPort := 15000 + 10*instance()
	sb := startSB(t, SBOptions{Users: []string{"1000"}, TLS: true,
		Trunks: fmt.Sprintf("  - {name: carrier, uri: \"sip:127.0.0.1:%d;transport=tls\", tls_ca: %q%s}", carrierPort+1, ca.CAFile, trunkExtra),
		Routes: "  - {match: '^1\\d{3}$', to: user}\n  - {match: '^9\\d{3}$', to: trunk:carrier}"})
	carrier := startBaresip(t, BaresipOptions{ListenPort: carrierPort, User: "9000", Password: "x", SB: sb, ToneHz: 1000, Certificate: cert.Combined})
	alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true})
	return sb, alice, carrier
}

// TestTLSTrunkVerified: a trunk reached over TLS whose certificate the
// configured CA signed takes the call; both parties hear each other and
// the CDR records UDP on the caller's leg and TLS on the trunk's.
func TestTLSTrunkVerified(t *testing.T) {
	ca := newTestCA(t, "carrier CA")
	sb, alice, carrier := tlsTrunkCall(t, ca, ca.issue(t, "carrier"), "")
	rec := toneCall(t, sb, alice, carrier, fmt.Sprintf("sip:9000@127.0.0.1:%d;transport=udp", sb.SIPPort), 3*time.Second)
	if rec.TransportA != "UDP" || rec.TransportB != "TLS" || rec.Trunk != "carrier" {
		t.Fatalf("CDR transports %q / %q trunk %q, want UDP / TLS carrier", rec.TransportA, rec.TransportB, rec.Trunk)
	}
}

// TestTLSTrunkUntrusted: a trunk whose certificate another CA signed is
// refused: the call fails with 503, a log line names the trunk and the
// reason, and the trunk's agent never sees the INVITE.
func TestTLSTrunkUntrusted(t *testing.T) {
	ca := newTestCA(t, "carrier CA")
	other := newTestCA(t, "someone else")
	sb, alice, carrier := tlsTrunkCall(t, ca, other.issue(t, "carrier"), "")
	alice.Command(fmt.Sprintf("dial sip:9000@127.0.0.1:%d;transport=udp", sb.SIPPort))
	if !alice.WaitEvent("CALL_CLOSED", 10*time.Second) {
		t.Fatalf("the call was not refused")
	}
	if carrier.HasEvent("CALL_INCOMING") {
		t.Fatalf("the untrusted trunk received the call")
	}
	if !sb.waitOutput("TLS peer certificate refused trunk=carrier", 2*time.Second) {
		t.Fatalf("no log line names the refused trunk certificate")
	}
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Status != 503 {
		t.Fatalf("CDRs %+v", recs)
	}
}

// TestTLSMutualTrunk: a trunk identified by its client certificate
// (tls_clients, by fingerprint) calls in over TLS without digest and
// reaches a user; a caller presenting another certificate is not the
// trunk and is challenged (its call fails, the user never rings).
func TestTLSMutualTrunk(t *testing.T) {
	ca := newTestCA(t, "pbx CA")
	right, wrong := ca.issue(t, "pbx"), ca.issue(t, "intruder")
	for _, c := range []struct {
		name string
		cert testCert
		ok   bool
	}{{"right certificate", right, true}, {"other certificate", wrong, false}} {
		t.Run(c.name, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1001"}, TLS: true,
				Trunks: fmt.Sprintf("  - {name: pbx, uri: \"sip:127.0.0.1:9;transport=udp\", tls_clients: [\"sha256:%s\"]}", right.Fingerprint)})
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true})
			pbx := startBaresip(t, BaresipOptions{User: "pbx", Password: "not-a-user", SB: sb, ToneHz: 440, Transport: "tls",
				ServerPort: sb.TLSPort, CAFile: filepath.Join(sb.Dir, "state", "tls.crt"), Certificate: c.cert.Combined})
			uri := fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=tls", sb.TLSPort)
			if c.ok {
				rec := toneCall(t, sb, pbx, bob, uri, 3*time.Second)
				if rec.SourceTrunk != "pbx" || rec.TransportA != "TLS" {
					t.Fatalf("CDR source trunk %q transport %q, want pbx over TLS", rec.SourceTrunk, rec.TransportA)
				}
				return
			}
			pbx.Command("dial " + uri)
			if !pbx.WaitEvent("CALL_CLOSED", 10*time.Second) {
				t.Fatalf("the call with another certificate was not refused")
			}
			if bob.HasEvent("CALL_INCOMING") || bob.HasEvent("CALL_ESTABLISHED") {
				t.Fatalf("the user rang for a caller with another certificate")
			}
			if !strings.Contains(pbx.out.String(), "407") {
				t.Fatalf("the caller with another certificate was not challenged:\n%s", tail(pbx.out.String(), 2000))
			}
		})
	}
}
